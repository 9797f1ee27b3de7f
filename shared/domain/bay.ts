// Bay (Magnum mitaka magnum/api/controllers/v1/bay.py): request fields and rules, and the
// bay as accepted: CREATE_IN_PROGRESS, its stack name fixed once, its timeout resolved.
import { randomUUID } from "node:crypto";
import { checkBody, type FieldRule } from "./fields.ts";
import type { Bay } from "./model.ts";
import { shortId } from "./short-id.ts";
import type { Owner } from "./baymodel.ts";

/**
 * The most masters, and the most worker nodes, a bay may have unless the operator sets
 * BAYFORGE_MAX_NODES_PER_BAY (Settings.maxNodesPerBay): large managed Kubernetes services cap a
 * node pool at about 1,000. Without a bound any count up to 2^53 was accepted and queued.
 */
export const DEFAULT_MAX_NODES_PER_BAY = 1000;

/** The rule of node_count and master_count (bays, clusters, manifests, scale and resize): 1 to `max`. */
export function countRule(max = DEFAULT_MAX_NODES_PER_BAY): FieldRule {
  return { spec: { type: "integer", min: 1, max, maxReason: "the maximum nodes per bay" } };
}

/** `rules` with node_count and master_count bounded by `max` (the same object for the default). */
export function withCountBound(rules: Record<string, FieldRule>, max: number): Record<string, FieldRule> {
  if (rules.node_count?.spec.type === "integer" && rules.node_count.spec.max === max) return rules;
  let cached = bounded.get(rules); // one configured maximum per process: built once, not per request
  if (cached?.max !== max) {
    const counts = { node_count: { ...rules.node_count, ...countRule(max) }, master_count: { ...rules.master_count, ...countRule(max) } };
    bounded.set(rules, (cached = { max, rules: { ...rules, ...counts } }));
  }
  return cached.rules;
}
const bounded = new WeakMap<Record<string, FieldRule>, { max: number; rules: Record<string, FieldRule> }>();

/** Stack names are `<bay name>-<12 char short id>` and Heat allows 255: names stop at 242. */
/**
 * The longest create timeout taken, in minutes (a week): Heat's timeout_mins and Bayforge's
 * deadline are computed from it, and a larger one is no timeout a person means.
 */
export const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

export const BAY_NAME_MAX = 242;
export const BAY_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_.-]*$/;

export const BAY_FIELDS: Record<string, FieldRule> = {
  name: {
    spec: {
      type: "string",
      min: 1,
      max: BAY_NAME_MAX,
      pattern: BAY_NAME_PATTERN,
      patternText:
        "Value should start with a letter and contain only letters, digits, '_', '.' and '-' (pattern ^[a-zA-Z][a-zA-Z0-9_.-]*$)",
    },
    nullable: true,
  },
  baymodel_id: { spec: { type: "string", min: 1, max: 255 }, required: true },
  node_count: countRule(),
  master_count: countRule(),
  bay_create_timeout: { spec: { type: "integer", min: 0, max: MAX_TIMEOUT_MINUTES, maxReason: "a week, in minutes" }, nullable: true },
  discovery_url: { spec: { type: "string", min: 1, max: 255 }, nullable: true },
  uuid: { spec: { type: "string" }, readonly: true },
  stack_id: { spec: { type: "string" }, readonly: true },
  status: { spec: { type: "string" }, readonly: true },
  status_reason: { spec: { type: "string" }, readonly: true },
  api_address: { spec: { type: "string" }, readonly: true },
  node_addresses: { spec: { type: "string" }, readonly: true },
  master_addresses: { spec: { type: "string" }, readonly: true },
  links: { spec: { type: "string" }, readonly: true },
  created_at: { spec: { type: "string" }, readonly: true },
  updated_at: { spec: { type: "string" }, readonly: true },
};

export interface BayRequest {
  name: string | null;
  baymodel_id: string;
  node_count: number;
  master_count: number;
  bay_create_timeout: number | null;
  discovery_url: string | null;
}

/** Validates a POST /v1/bays body (the baymodel is looked up separately); counts up to `maxNodes`. */
export function parseBayRequest(body: unknown, maxNodes = DEFAULT_MAX_NODES_PER_BAY): BayRequest {
  const f = checkBody("bay", body, withCountBound(BAY_FIELDS, maxNodes));
  return {
    name: (f.name as string | null | undefined) ?? null,
    baymodel_id: f.baymodel_id as string,
    node_count: (f.node_count as number | undefined) ?? 1,
    master_count: (f.master_count as number | undefined) ?? 1,
    bay_create_timeout: (f.bay_create_timeout as number | null | undefined) ?? null,
    discovery_url: (f.discovery_url as string | null | undefined) ?? null,
  };
}

export interface AcceptOptions {
  /** minutes used when the request names no timeout (Magnum's bay_create_timeout, 60) */
  defaultTimeoutMinutes: number;
  /** extra minutes Bayforge waits past Heat's own timeout before failing the bay itself */
  deadlineGraceMinutes: number;
  requestId: string;
  now: Date;
}

/** The bay as accepted by the API, before any work is done. */
export function acceptBay(req: BayRequest, baymodelUuid: string, owner: Owner, o: AcceptOptions): Bay {
  const uuid = randomUUID();
  const sid = shortId(uuid);
  // Unnamed bays get a name (as modern Magnum does) so the stack name stays readable.
  const name = req.name ?? `bay-${sid.slice(0, 8)}`;
  const timeout = req.bay_create_timeout ?? o.defaultTimeoutMinutes;
  const now = o.now.toISOString();
  return {
    uuid,
    name,
    project_id: owner.projectId,
    user_id: owner.userId,
    baymodel_id: baymodelUuid,
    node_count: req.node_count,
    master_count: req.master_count,
    discovery_url: req.discovery_url,
    bay_create_timeout: timeout,
    status: "CREATE_IN_PROGRESS",
    status_reason: null,
    stack_id: null,
    api_address: null,
    node_addresses: [],
    master_addresses: [],
    created_at: now,
    updated_at: null,
    version: 1,
    stack_name: `${name}-${sid}`,
    deadline_at:
      timeout > 0 ? new Date(o.now.getTime() + (timeout + o.deadlineGraceMinutes) * 60_000).toISOString() : null,
    request_id: o.requestId,
    poll_seq: 0,
  };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const looksLikeUuid = (s: string): boolean => UUID_RE.test(s);
