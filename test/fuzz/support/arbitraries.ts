// Generators of hostile input shared by the fuzzers: strings (unicode, lone surrogates, NUL,
// huge), numbers at the edges, JSON values of the wrong shape, keys that reach JavaScript's
// object machinery (__proto__, constructor, ...), nesting far deeper than any real body, and the
// headers and query strings around them. Deep nesting is a marker replaced in the JSON text,
// since building and serialising such a value here would itself overflow the stack.
import fc from "fast-check";

/** Keys that hit Object.prototype instead of a table of fields when looked up carelessly. */
export const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "__defineGetter__", "toJSON"];

const SPECIAL_STRINGS = [
  "", " ", "\t", "\u0000", "\n", "\r\n", "..", "../..", "%00", "%2F", "%zz", "é", "😀", "\u202e", "\ud800", "\udfff", "\ufeff",
  "null", "undefined", "NaN", "-1", "0", "1e309", "true", "<script>", "' OR 1=1 --", "${x}", "{{x}}", "*", "&", "=", "?", "#",
];

/** Strings a client might send, hostile ones first among equals. */
export const text: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: "binary", maxLength: 24 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.constantFrom(...SPECIAL_STRINGS),
  fc.constantFrom(...PROTO_KEYS),
  fc.tuple(fc.integer({ min: 200, max: 5000 }), fc.constantFrom("x", "é", "😀", "\u0000", "a-")).map(([n, c]) => c.repeat(n)),
);

/** Numbers at the edges of every rule (0, -0, 1000/1001, 2^53, 1e308, ...) and anywhere. */
export const number: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 1, 1.5, 0.1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, 5e-324, 999, 1000, 1001, 1023, 1024, 65535, 65536, 64, 65, 242, 243, 255, 256),
);

/** A JSON object with exactly these own keys (also `__proto__`, which a literal would turn into a prototype). */
export function own(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Stands for `depth` nested arrays in the JSON text (see toJsonText). */
export class Deep {
  constructor(readonly depth: number, readonly open = "[", readonly close = "]") {}
}
export const deep: fc.Arbitrary<Deep> = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((d) => new Deep(d)),
  fc.integer({ min: 2000, max: 30_000 }).map((d) => new Deep(d)),
  fc.integer({ min: 2000, max: 12_000 }).map((d) => new Deep(d, '{"a":', "}")),
);

/** Objects made to pollute prototypes if merged carelessly. */
const pollution = fc.constantFrom(
  JSON.parse('{"__proto__": {"polluted": "yes"}}'),
  JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}'),
  JSON.parse('{"__proto__": null}'),
  JSON.parse('{"toString": "x", "valueOf": 1, "hasOwnProperty": {}}'),
);

/** Any JSON value, with a bias towards the shapes that break checks. */
export const junk: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    pollution,
    deep,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(fc.oneof(text, fc.constantFrom(...PROTO_KEYS)), tie("value")), { maxLength: 4 }).map(own),
    fc.jsonValue({ maxDepth: 3 }),
  ),
})).value;

/**
 * JSON text for a value holding Deep markers: each becomes `depth` nested arrays (or objects)
 * around 1. Everything else is JSON.stringify's.
 */
export function toJsonText(value: unknown): string {
  const deeps: Deep[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof Deep) {
      deeps.push(v);
      return `\u0000deep${deeps.length - 1}\u0000`;
    }
    return v;
  });
  if (text === undefined) return "";
  return text.replace(/"\\u0000deep(\d+)\\u0000"/g, (_m, i) => {
    const d = deeps[Number(i)];
    return d.open.repeat(d.depth) + "1" + d.close.repeat(d.depth);
  });
}

/** Bodies that are not JSON objects at all, or barely JSON. */
export const rawBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", " ", "\n", "null", "[]", "{}", "true", "1", '"x"', "{", "}", "[", "{]", '{"a":}', "{'a': 1}", '{"a": 1,}', '{"a": NaN}', '{"a": Infinity}', "\ufeff{}", '{"a": 1} {"b": 2}', "/* c */ {}", '{"a":"\\ud800"}'),
  fc.string({ unit: "binary", maxLength: 64 }),
  deep.map((d) => toJsonText(d)),
  fc.integer({ min: 1, max: 60_000 }).map((n) => `{"name": "${"x".repeat(n)}`), // cut short
);

/** Header values must be visible ASCII (fetch refuses the rest): junk within that. */
const headerText = fc.string({ unit: "binary-ascii", maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, "").trim());

export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    undefined,
    "application/json; charset=utf-8",
    "application/json-patch+json",
    "application/merge-patch+json",
    "APPLICATION/JSON",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/yaml",
    "text/yaml",
    "application/x-yaml",
    "application/xml",
    "application/jsonx",
    "json",
  ),
  headerText,
);

const versionValue = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 12 })).map(([a, b]) => `${a}.${b}`),
  fc.constantFrom("latest", "LATEST", "1", "1.", ".1", "1.1.1", "01.01", "1.10 ", "-1.1", "1.99999999999999999999", "", "v1.1"),
  headerText,
);

/** Microversion headers, modern and mitaka, present or not, well-formed or not. */
export const versionHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      modern: fc.oneof(
        versionValue.map((v) => `container-infra ${v}`),
        fc.tuple(fc.constantFrom("container-infrastructure-management", "CONTAINER-INFRA", "compute", "", "container-infra,"), versionValue).map(([s, v]) => `${s} ${v}`),
        fc.tuple(versionValue, versionValue).map(([a, b]) => `compute ${a}, container-infra ${b}`),
        headerText,
      ),
      legacy: versionValue,
    },
    { requiredKeys: [] },
  )
  .map((r) => ({
    ...(r.modern !== undefined ? { "openstack-api-version": r.modern } : {}),
    ...(r.legacy !== undefined ? { "x-openstack-magnum-api-version": r.legacy } : {}),
  }));

/** A path segment as a client would encode it (lone surrogates as their UTF-8 replacement). */
export function segment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join("");
  }
}

/** Raw path segments a client might send unencoded. */
export const rawSegment = fc.constantFrom("%", "%zz", "%E0%A4%A", "%00", "%2F", "%2e%2e", ".", "..", "a;b", "a%20b", "%C0%AF", "%FF", "~", "a?b=c");

/** A query string of these parameters (any order, repeated, junk values), or none. */
export function query(names: string[], value: fc.Arbitrary<string> = text): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, text), fc.oneof(value, text)), { maxLength: 4 })
    .map((ps) => (ps.length ? `?${ps.map(([k, v]) => `${segment(k)}=${segment(v)}`).join("&")}` : ""));
}
