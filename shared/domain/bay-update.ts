// Changing a bay after it exists: Magnum mitaka's PATCH (an RFC 6902 JSON patch in which only
// /node_count may change), the modern resize action (node_count + nodes_to_remove), and the
// delete, each with the rule on which statuses allow it. No I/O.
import type { Bay, BayUpdate } from "./model.ts";
import { badRequest, conflict, invalidField, preview } from "./errors.ts";
import { isInProgress } from "./status.ts";
import { DEFAULT_MAX_NODES_PER_BAY } from "./bay.ts";

/** Attributes a user may name in a bay PATCH but never change (magnum BayPatchType + API fields). */
const BAY_ATTRIBUTES = new Set([
  "uuid", "name", "baymodel_id", "node_count", "master_count", "discovery_url", "bay_create_timeout",
  "stack_id", "cluster_id", "status", "status_reason", "api_address", "node_addresses", "master_addresses",
  "links", "created_at", "updated_at", "project_id", "user_id",
]);

export interface ScaleRequest {
  node_count: number;
  nodes_to_remove: string[];
  /** undo a failed update (Magnum's `?rollback=True`, API 1.3+) */
  rollback?: boolean;
}

/** Magnum mitaka's bay PATCH body → the new node count (up to `maxNodes`). Throws ApiError 400 naming the problem. */
export function parseBayPatch(body: unknown, bay: Bay, maxNodes = DEFAULT_MAX_NODES_PER_BAY): ScaleRequest {
  if (!Array.isArray(body) || body.length === 0)
    throw badRequest('The request body must be a non-empty JSON patch list, e.g. [{"op": "replace", "path": "/node_count", "value": 3}].');
  let nodeCount: number | undefined;
  body.forEach((op: unknown, i) => {
    if (!op || typeof op !== "object" || Array.isArray(op)) throw badRequest(`Patch operation ${i} must be an object with op, path and value.`);
    const { op: kind, path, value, ...extra } = op as Record<string, unknown>;
    const unknown = Object.keys(extra).filter((k) => k !== "from");
    if (unknown.length) throw badRequest(`Patch operation ${i} has unknown member(s): ${unknown.join(", ")}.`);
    if (typeof path !== "string" || !path.startsWith("/")) throw badRequest(`Patch operation ${i}: path must be a string starting with "/".`);
    if (!["add", "replace", "remove"].includes(kind as string))
      throw badRequest(`Patch operation ${i}: op must be one of add, replace, remove (got ${preview(kind)}).`);
    const attr = path.slice(1).split("/")[0];
    if (!BAY_ATTRIBUTES.has(attr)) throw badRequest(`Patch operation ${i}: the bay has no attribute "${attr}".`);
    if (attr !== "node_count") throw badRequest(`cannot change bay property(ies) ${attr}. Only node_count can be updated.`);
    if (path !== "/node_count") throw badRequest(`Patch operation ${i}: node_count has no member ${path.slice("/node_count".length)}.`);
    if (kind === "remove") throw badRequest("Attribute node_count can not be removed: it is mandatory.");
    // Magnum: "add" to an attribute that already has a value is refused.
    if (kind === "add") throw badRequest("Adding a new attribute (/node_count) to the root of the resource is not allowed: node_count already has a value; use replace.");
    if (!("value" in (op as object))) throw badRequest(`Patch operation ${i}: replace needs a value.`);
    nodeCount = checkNodeCount(value, maxNodes);
  });
  return { node_count: nodeCount ?? bay.node_count, nodes_to_remove: [] };
}

/** The modern resize action body `{node_count, nodes_to_remove?, nodegroup?}`; node_count up to `maxNodes`. */
/** `zeroNodes` (API 1.10+): node_count 0 passes here (only an extra nodegroup may then have it). */
export function parseResize(body: unknown, maxNodes = DEFAULT_MAX_NODES_PER_BAY, o: { zeroNodes?: boolean } = {}): ScaleRequest & { nodegroup?: string } {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("The request body must be a JSON object with node_count.");
  const { node_count, nodes_to_remove, nodegroup, ...extra } = body as Record<string, unknown>;
  const unknown = Object.keys(extra);
  if (unknown.length) throw badRequest(`Unknown attribute(s) for resize: ${unknown.join(", ")}.`);
  if (node_count === undefined) throw invalidField("node_count", node_count, "Mandatory field missing.");
  const count = o.zeroNodes && node_count === 0 ? 0 : checkNodeCount(node_count, maxNodes);
  let remove: string[] = [];
  if (nodes_to_remove !== undefined && nodes_to_remove !== null) {
    if (!Array.isArray(nodes_to_remove) || nodes_to_remove.some((n) => typeof n !== "string" || !n))
      throw invalidField("nodes_to_remove", nodes_to_remove, "Expected a list of non-empty strings (minion names or private addresses).");
    remove = [...new Set(nodes_to_remove as string[])];
  }
  if (nodegroup !== undefined && typeof nodegroup !== "string") throw invalidField("nodegroup", nodegroup, "Expected a string.");
  return { node_count: count, nodes_to_remove: remove, ...(typeof nodegroup === "string" ? { nodegroup } : {}) };
}

function checkNodeCount(v: unknown, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalidField("node_count", v, "Expected an integer.");
  if (v < 1) throw invalidField("node_count", v, "Value should be greater or equal to 1.");
  if (v > max) throw invalidField("node_count", v, `Value should be less or equal to ${max} (the maximum nodes per bay).`);
  return v;
}

/** An operation is already running on the bay: 409 naming it. */
export function ensureIdle(bay: Bay, what: string): void {
  if (isInProgress(bay.status))
    throw conflict(`Bay ${bay.uuid} is ${bay.status}; it cannot be ${what} until that operation finishes.`);
}

/**
 * Checks a scale request against the bay (Magnum: only from a *_COMPLETE stack) and returns
 * the update to record. nodes_to_remove must name current minions, by resource name or
 * private address (public addresses are not stable references: LP #1600125).
 */
export function planScale(bay: Bay, req: ScaleRequest, o: { now: Date; requestId: string }): BayUpdate {
  ensureIdle(bay, "updated");
  checkUpdatable(bay, "Updating a bay", "bay");
  const removing = req.nodes_to_remove;
  if (removing.length) {
    if (req.node_count >= bay.node_count)
      throw badRequest(`nodes_to_remove can only be given when node_count goes down (from ${bay.node_count}; asked ${req.node_count}).`);
    if (removing.length > bay.node_count - req.node_count)
      throw badRequest(`nodes_to_remove names ${removing.length} nodes but going from ${bay.node_count} to ${req.node_count} removes only ${bay.node_count - req.node_count}.`);
    const minions = bay.minions ?? {};
    const known = new Set([...Object.keys(minions), ...Object.values(minions)]);
    const unknown = removing.filter((n) => !known.has(n));
    if (unknown.length)
      throw badRequest(
        `nodes_to_remove: ${unknown.join(", ")} ${unknown.length > 1 ? "are not minions" : "is not a minion"} of bay ${bay.uuid}; ` +
          `name minions by resource name or private address: ${Object.entries(minions).map(([k, v]) => `${k} (${v})`).join(", ") || "none known"}.`,
      );
  }
  if (req.node_count === bay.node_count && !removing.length)
    throw badRequest(`node_count is already ${bay.node_count}; nothing to update.`);
  return {
    node_count: req.node_count,
    nodes_to_remove: removing,
    previous_node_count: bay.node_count,
    requested_at: o.now.toISOString(),
    request_id: o.requestId,
    ...(req.rollback ? { rollback: true } : {}),
    ...leftTrustees(bay),
  };
}

/** Trustees an earlier rotation left on the bay's update, carried to the next one. */
export function leftTrustees(bay: Bay): Pick<BayUpdate, "trustees_left"> {
  const left = [...(bay.update?.trustees_left ?? []), ...(bay.update?.trustee ? [bay.update.trustee] : [])];
  return left.length ? { trustees_left: left } : {};
}

/** The statuses Magnum rotates a cluster's credential from (credential_conductor.py), *_IN_PROGRESS aside. */
const ROTATABLE = new Set(["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_FAILED", "RESUME_COMPLETE", "RESTORE_COMPLETE", "ROLLBACK_COMPLETE", "SNAPSHOT_COMPLETE", "CHECK_COMPLETE", "ADOPT_COMPLETE"]);

/**
 * Checks a credential rotation (PATCH /v1/credentials, API 1.12) against the bay and returns
 * the update to record: the stack keeps its nodes and gets a new trustee. Magnum rotates during
 * an update too (synchronously, in its conductor); here a rotation is itself an update, so it
 * waits for the running one (409). Trustees an earlier rotation left are carried, to be removed
 * with the bay.
 */
export function planRotation(bay: Bay, o: { now: Date; requestId: string }): BayUpdate {
  ensureIdle(bay, "given new credentials");
  if (!ROTATABLE.has(bay.status)) throw badRequest(`Credential rotation when cluster status is "${bay.status}" is not supported.`);
  if (!bay.trustee || !bay.trust_id)
    throw badRequest(`Cluster ${bay.uuid} has no trustee credential to rotate: it was created without Keystone (noauth), so its nodes hold none.`);
  return sameCountUpdate(bay, o, { rotate_credentials: true, trustee: null });
}

/** Magnum updates a bay only from a *_COMPLETE status (not DELETE_COMPLETE). */
export function checkUpdatable(bay: Bay, what: string, noun: "bay" | "cluster"): void {
  if (!bay.status.endsWith("_COMPLETE") || bay.status === "DELETE_COMPLETE")
    throw badRequest(`${what} when its status is ${bay.status} is not supported: the ${noun} must be CREATE_COMPLETE or UPDATE_COMPLETE.`);
}

/** An update that keeps the node count (a credential rotation, a node group's operation), carrying left trustees. */
export function sameCountUpdate(bay: Bay, o: { now: Date; requestId: string }, what: Partial<BayUpdate>): BayUpdate {
  return {
    node_count: bay.node_count,
    nodes_to_remove: [],
    previous_node_count: bay.node_count,
    requested_at: o.now.toISOString(),
    request_id: o.requestId,
    ...what,
    ...leftTrustees(bay),
  };
}

/**
 * Delete is allowed from any status but DELETE_IN_PROGRESS: as in Magnum it may interrupt a
 * create or an update (Heat cancels the stack's traversal), which is how stuck bays get unstuck.
 */
export function checkDeletable(bay: Bay): void {
  if (bay.status === "DELETE_IN_PROGRESS") throw conflict(`Bay ${bay.uuid} is already DELETE_IN_PROGRESS.`);
}
