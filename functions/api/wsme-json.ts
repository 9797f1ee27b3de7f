// What Magnum's WSME layer does to a request's JSON before its controllers see it, for the
// clients that rely on it: magnum-ui sends every create value as a Python str() (`"5"`,
// `"False"`), its template update replaces `/labels` with the repr of a dict, and its
// cluster form puts booleans in labels.
// - A body (wsme's fromjson): an integer field takes a string of digits (int("5")), a boolean
//   field Magnum's strings ("True", "off", …; types.boolean), labels take numbers and
//   booleans (MultiType(text, int, bool, float)); Bayforge keeps labels as strings (they go to
//   Heat as strings), so those are stored in JSON's spelling ("false", "5").
// - A JSON patch (the value set on the type, wsattr validation, no fromjson): booleans from
//   the same strings, integers only as numbers (Magnum answers a string with a 400), and
//   `replace /labels` with a string is read as a Python literal (Magnum's apply_jsonpatch
//   does ast.literal_eval for magnum-ui).
import type { FieldRule } from "../../shared/domain/fields.ts";
import { badRequest } from "../../shared/domain/errors.ts";

const TRUE = new Set(["1", "t", "true", "on", "y", "yes"]);
const FALSE = new Set(["0", "f", "false", "off", "n", "no"]);
const INT = /^\s*[+-]?\d{1,15}\s*$/;

/** oslo's bool_from_string(strict=True) on a string; undefined when it is none of them. */
function boolOf(s: string): boolean | undefined {
  const v = s.trim().toLowerCase();
  return TRUE.has(v) ? true : FALSE.has(v) ? false : undefined;
}

/** Label values as Bayforge keeps them: strings; numbers and booleans in JSON's spelling. */
function labelsOf(v: unknown): unknown {
  if (!v || typeof v !== "object" || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x)) ? String(x) : x]));
}

type Kind = FieldRule["spec"]["type"];

/**
 * A create's body as WSME hands it on: `kinds` names the integer, boolean and labels fields;
 * `blankAsNull` the plain-text fields where Magnum takes "" as not given (a cluster's
 * discovery_url: magnum-ui sends "" for its null).
 */
export function fromJson(body: unknown, kinds: Record<string, Kind>, blankAsNull: string[] = []): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [k, v] of Object.entries(out)) {
    const kind = Object.hasOwn(kinds, k) ? kinds[k] : undefined;
    if (v === "" && blankAsNull.includes(k)) out[k] = null;
    else if (kind === "integer" && typeof v === "string" && INT.test(v)) out[k] = Number(v.trim());
    else if (kind === "boolean" && typeof v === "string" && boolOf(v) !== undefined) out[k] = boolOf(v);
    else if (kind === "labels") out[k] = labelsOf(v);
  }
  return out;
}

/** The field kinds of a table of rules (the create's). */
export const kindsOf = (rules: Record<string, FieldRule>): Record<string, Kind> =>
  Object.fromEntries(Object.entries(rules).map(([k, r]) => [k, r.spec.type]));

/**
 * A JSON patch as Magnum applies it: boolean values from strings, `replace /labels` from a
 * Python literal. `ignore` lists paths whose `remove` changes nothing here (they are dropped).
 */
export function fromJsonPatch(body: unknown, kinds: Record<string, Kind>, ignore: string[] = []): unknown {
  if (!Array.isArray(body)) return body;
  return body
    .filter((op) => !(op && typeof op === "object" && op.op === "remove" && ignore.includes(op.path)))
    .map((op) => {
      if (!op || typeof op !== "object" || Array.isArray(op) || !("value" in op) || typeof op.path !== "string") return op;
      const attr = op.path.slice(1);
      const kind = Object.hasOwn(kinds, attr) ? kinds[attr] : undefined;
      if (kind === "boolean" && typeof op.value === "string" && boolOf(op.value) !== undefined) return { ...op, value: boolOf(op.value) };
      if (kind === "labels" && op.op === "replace") return { ...op, value: labelsOf(typeof op.value === "string" ? pythonLiteral(op.value) : op.value) };
      // one label (`add /labels/<key>`): python-magnumclient 4 sends `labels/k=1` as the number 1
      if (op.path.startsWith("/labels/") && (typeof op.value === "boolean" || typeof op.value === "number")) return { ...op, value: String(op.value) };
      return op;
    });
}

const MAX_LITERAL = 64 * 1024;

/**
 * A Python literal as ast.literal_eval reads one, for what magnum-ui sends: str() of a dict of
 * strings, numbers, booleans and None. Anything else is Magnum's PatchError, a 400.
 */
export function pythonLiteral(text: string): unknown {
  if (text.length > MAX_LITERAL) throw badRequest(`Couldn't apply patch: the value of /labels is longer than ${MAX_LITERAL} characters.`);
  let i = 0;
  const fail = (): never => {
    throw badRequest(`Couldn't apply patch. Reason: malformed node or string at position ${i} of the value of /labels (a Python literal such as {'key': 'value'} is expected).`);
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (depth: number): unknown => {
    if (depth > 8) fail();
    space();
    const ch = text[i];
    if (ch === "{") {
      i++;
      const out: Record<string, unknown> = {};
      space();
      if (text[i] === "}") return i++, out;
      for (;;) {
        const key = value(depth + 1);
        if (typeof key !== "string") fail();
        space();
        if (text[i++] !== ":") fail();
        Object.defineProperty(out, key as string, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        space();
        if (text[i] === ",") {
          i++;
          space();
          if (text[i] === "}") return i++, out;
          continue;
        }
        if (text[i++] !== "}") fail();
        return out;
      }
    }
    if (ch === "'" || ch === '"') {
      i++;
      let s = "";
      while (i < text.length && text[i] !== ch) {
        if (text[i] === "\\") {
          const e = text[i + 1];
          const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
          if (e === undefined || !Object.hasOwn(map, e)) fail();
          s += map[e];
          i += 2;
        } else s += text[i++];
      }
      if (text[i++] !== ch) fail();
      return s;
    }
    const word = /^(True|False|None|[+-]?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i, i + 40))?.[0];
    if (!word) fail();
    i += word!.length;
    return word === "True" ? true : word === "False" ? false : word === "None" ? null : Number(word);
  };
  const out = value(0);
  space();
  if (i !== text.length) fail();
  return out;
}
