// Batch manifests (`bayforge apply -f bays.yaml`, POST /v1/batches): a YAML (or JSON) document
// listing baymodels and bays, in the spirit of `kubectl apply`. Everything is checked before
// anything happens, and EVERY problem is reported at once with its path in the document
// (`bays[3].node_count: ...`). The field rules are the API's own (BAYMODEL_FIELDS, BAY_FIELDS).
// No I/O: whether a bay's baymodel exists outside the manifest is the caller's check
// (`externalBaymodels`).
import { CORE_SCHEMA, load } from "js-yaml";
import { ApiError } from "./errors.ts";
import { checkBody, type FieldRule } from "./fields.ts";
import { BAYMODEL_FIELDS, newBayModel } from "./baymodel.ts";
import { BAY_FIELDS, DEFAULT_MAX_NODES_PER_BAY, withCountBound } from "./bay.ts";
import { checkBayNetwork } from "./bay-network.ts";
import type { BayModel } from "./model.ts";

export const MAX_MANIFEST_BAYS = 1000;
export const MAX_MANIFEST_BAYMODELS = 100;

/** A baymodel as the manifest gives it: `name` plus the fields of POST /v1/baymodels. */
export interface ManifestBayModel {
  name: string;
  /** the other fields, as given (already checked) */
  fields: Record<string, unknown>;
}

export interface ManifestBay {
  name: string;
  /** a baymodel name (of the manifest, or an existing one), or an existing baymodel's uuid */
  baymodel: string;
  node_count?: number;
  master_count?: number;
  bay_create_timeout?: number | null;
  discovery_url?: string | null;
}

export interface Manifest {
  baymodels: ManifestBayModel[];
  bays: ManifestBay[];
}

/** One problem, with where it is in the document. */
export interface ManifestProblem {
  path: string;
  message: string;
}

const BAY_ITEM_FIELDS: Record<string, FieldRule> = {
  name: { ...BAY_FIELDS.name, required: true, nullable: false },
  baymodel: { spec: { type: "string", min: 1, max: 255 }, required: true },
  node_count: BAY_FIELDS.node_count,
  master_count: BAY_FIELDS.master_count,
  bay_create_timeout: BAY_FIELDS.bay_create_timeout,
  discovery_url: BAY_FIELDS.discovery_url,
};
const BAYMODEL_ITEM_FIELDS: Record<string, FieldRule> = {
  ...BAYMODEL_FIELDS,
  name: { ...BAYMODEL_FIELDS.name, required: true, nullable: false },
};

// "Invalid input for field/attribute node_count. Value: '0'. ..." → "Value: '0'. ..." (the path names the field)
const short = (detail: string) => detail.replace(/^Invalid input for field\/attribute [^.]+\. /, "");

/** Checks one item field by field, collecting every problem instead of stopping at the first. */
function checkItem(path: string, resource: string, item: unknown, rules: Record<string, FieldRule>, problems: ManifestProblem[]): Record<string, unknown> | undefined {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    problems.push({ path, message: `expected a mapping describing a ${resource}` });
    return undefined;
  }
  const before = problems.length;
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(item)) {
    const rule = Object.hasOwn(rules, field) ? rules[field] : undefined; // not "constructor" & co. of Object.prototype
    const at = `${path}.${field}`;
    if (!rule) {
      problems.push({ path: at, message: `unknown attribute for a ${resource}; expected one of: ${Object.entries(rules).filter(([, r]) => !r.readonly).map(([k]) => k).join(", ")}` });
      continue;
    }
    if (rule.readonly) {
      problems.push({ path: at, message: `read-only attribute of a ${resource}; it cannot be set` });
      continue;
    }
    try {
      Object.assign(out, checkBody(resource, { [field]: value }, { [field]: { ...rule, required: false } }));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      problems.push({ path: at, message: value === null && rule.required ? "must not be null" : short(e.detail) });
    }
  }
  for (const [field, rule] of Object.entries(rules)) {
    if (rule.required && !(field in (item as object))) problems.push({ path, message: `missing ${field}` });
  }
  return problems.length === before ? out : undefined;
}

function checkList(doc: Record<string, unknown>, key: string, max: number, problems: ManifestProblem[]): unknown[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push({ path: key, message: "expected a list" });
    return [];
  }
  if (v.length > max) problems.push({ path: key, message: `${v.length} items; a manifest holds at most ${max} ${key}` });
  return v;
}

export interface CheckedManifest {
  manifest: Manifest;
  problems: ManifestProblem[];
  /** bays naming a baymodel that is not in the manifest: the caller checks these exist (and bayNetworkProblem) */
  externalBaymodels: Array<{ path: string; name: string; bay: ManifestBay }>;
}

/** What a bay of the manifest breaks of the network rules of its baymodel (checkBayNetwork), if anything. */
export function bayNetworkProblem(bay: ManifestBay, model: BayModel): string | undefined {
  try {
    checkBayNetwork(bay.master_count ?? 1, model);
    return undefined;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return e.detail;
  }
}

/** Checks a parsed document, its bays' counts up to `maxNodes`; `problems` is empty when the manifest is good. */
export function checkManifest(doc: unknown, maxNodes = DEFAULT_MAX_NODES_PER_BAY): CheckedManifest {
  const problems: ManifestProblem[] = [];
  const manifest: Manifest = { baymodels: [], bays: [] };
  const externalBaymodels: CheckedManifest["externalBaymodels"] = [];
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    problems.push({ path: "(document)", message: "expected a mapping with `baymodels` and/or `bays` lists" });
    return { manifest, problems, externalBaymodels };
  }
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (k !== "baymodels" && k !== "bays") problems.push({ path: k, message: "unknown key; a manifest has only `baymodels` and `bays`" });
  const models = checkList(d, "baymodels", MAX_MANIFEST_BAYMODELS, problems);
  const bays = checkList(d, "bays", MAX_MANIFEST_BAYS, problems);
  if (!models.length && !bays.length && !problems.length) problems.push({ path: "(document)", message: "nothing to apply: no baymodels and no bays" });

  const modelAt = new Map<string, number>();
  const checkedModels = new Map<string, BayModel>();
  models.forEach((item, i) => {
    const path = `baymodels[${i}]`;
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name === "string") {
      const first = modelAt.get(name);
      if (first !== undefined) problems.push({ path: `${path}.name`, message: `duplicate name '${name}' (also baymodels[${first}])` });
      else modelAt.set(name, i);
    }
    const f = checkItem(path, "baymodel", item, BAYMODEL_ITEM_FIELDS, problems);
    if (!f) return;
    // the create's own rules beyond single fields (coe, drivers)
    try {
      checkedModels.set(f.name as string, newBayModel(f, { projectId: "-", userId: "-" }, new Date(0).toISOString()));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      problems.push({ path, message: short(e.detail) });
      return;
    }
    const { name: n, ...fields } = f;
    manifest.baymodels.push({ name: n as string, fields });
  });

  const bayAt = new Map<string, number>();
  const bayRules = withCountBound(BAY_ITEM_FIELDS, maxNodes);
  bays.forEach((item, i) => {
    const path = `bays[${i}]`;
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name === "string") {
      const first = bayAt.get(name);
      if (first !== undefined) problems.push({ path: `${path}.name`, message: `duplicate name '${name}' (also bays[${first}])` });
      else bayAt.set(name, i);
    }
    const f = checkItem(path, "bay", item, bayRules, problems);
    if (!f) return;
    const bay = f as unknown as ManifestBay;
    if (!modelAt.has(bay.baymodel)) externalBaymodels.push({ path: `${path}.baymodel`, name: bay.baymodel, bay });
    const model = checkedModels.get(bay.baymodel);
    const network = model && bayNetworkProblem(bay, model);
    if (network) problems.push({ path, message: network });
    manifest.bays.push(bay);
  });
  return { manifest, problems, externalBaymodels };
}

/** 400 listing every problem, one per line, each with its path. */
export function manifestError(problems: ManifestProblem[]): ApiError {
  const n = problems.length;
  return new ApiError(
    400,
    `Invalid manifest`,
    `The manifest has ${n} problem${n === 1 ? "" : "s"}; nothing was applied:\n${problems.map((p) => `${p.path}: ${p.message}`).join("\n")}`,
  );
}

/** YAML (CORE_SCHEMA: no dates, no custom tags; JSON is YAML too) → the document, or 400. */
export function loadManifestText(text: string): unknown {
  if (!text.trim()) throw manifestError([{ path: "(document)", message: "empty; send a YAML or JSON manifest" }]);
  try {
    return load(text, { schema: CORE_SCHEMA, json: true });
  } catch (e) {
    const mark = (e as { mark?: { line: number; column: number } }).mark;
    const where = mark ? `line ${mark.line + 1}, column ${mark.column + 1}` : "(document)";
    throw manifestError([{ path: where, message: `not valid YAML: ${(e as { reason?: string }).reason ?? (e as Error).message.split("\n")[0]}` }]);
  }
}

/**
 * Text (or an already-parsed document) → the manifest, or an ApiError 400 listing every
 * problem. Bays naming a baymodel outside the manifest are returned for the caller to check.
 */
export function parseManifest(input: string | unknown, maxNodes = DEFAULT_MAX_NODES_PER_BAY): { manifest: Manifest; externalBaymodels: CheckedManifest["externalBaymodels"] } {
  const doc = typeof input === "string" ? loadManifestText(input) : input;
  const { manifest, problems, externalBaymodels } = checkManifest(doc, maxNodes);
  if (problems.length) throw manifestError(problems);
  return { manifest, externalBaymodels };
}
