// Scale and delete rules (Magnum's bay PATCH and modern resize), without I/O.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { acceptBay, parseBayRequest } from "../../shared/domain/bay.ts";
import { checkDeletable, parseBayPatch, parseResize, planScale } from "../../shared/domain/bay-update.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import type { Bay } from "../../shared/domain/model.ts";

const now = new Date("2026-11-25T12:00:00Z");
function bay(over: Partial<Bay> = {}): Bay {
  const b = acceptBay(parseBayRequest({ name: "k8s", baymodel_id: "m", node_count: 3 }), "9a1c0b5e-3f0e-4c47-9a55-2c4d1f1f0a11", { projectId: "p", userId: "u" }, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now });
  return { ...b, status: "CREATE_COMPLETE", minions: { "0": "10.0.0.3", "1": "10.0.0.4", "2": "10.0.0.5" }, ...over };
}
function rejects(fn: () => unknown, status: number, mention: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === status && mention.test(e.detail));
}
const plan = (b: Bay, req: { node_count: number; nodes_to_remove: string[] }) => planScale(b, req, { now, requestId: "req-1" });

describe("bay PATCH (Magnum mitaka: JSON patch, only node_count)", () => {
  it("takes replace /node_count", () => assert.equal(parseBayPatch([{ op: "replace", path: "/node_count", value: 5 }], bay()).node_count, 5));
  it("refuses other attributes, naming them", () => rejects(() => parseBayPatch([{ op: "replace", path: "/name", value: "x" }], bay()), 400, /cannot change bay property\(ies\) name/));
  it("refuses attributes a bay does not have", () => rejects(() => parseBayPatch([{ op: "replace", path: "/colour", value: 1 }], bay()), 400, /colour/));
  it("refuses remove and add of node_count", () => {
    rejects(() => parseBayPatch([{ op: "remove", path: "/node_count" }], bay()), 400, /mandatory/);
    rejects(() => parseBayPatch([{ op: "add", path: "/node_count", value: 2 }], bay()), 400, /replace/);
  });
  it("refuses bad counts and bodies that are not a patch list", () => {
    rejects(() => parseBayPatch([{ op: "replace", path: "/node_count", value: 0 }], bay()), 400, /greater or equal to 1/);
    rejects(() => parseBayPatch([{ op: "replace", path: "/node_count", value: 1.5 }], bay()), 400, /integer/);
    rejects(() => parseBayPatch({ node_count: 2 }, bay()), 400, /JSON patch/);
    rejects(() => parseBayPatch([], bay()), 400, /non-empty/);
    rejects(() => parseBayPatch([{ op: "move", path: "/node_count", from: "/x" }], bay()), 400, /op must be/);
  });
});

describe("resize (modern Magnum: node_count + nodes_to_remove)", () => {
  it("parses and de-duplicates nodes_to_remove", () => assert.deepEqual(parseResize({ node_count: 1, nodes_to_remove: ["1", "1", "10.0.0.5"] }).nodes_to_remove, ["1", "10.0.0.5"]));
  it("needs node_count and refuses unknown members", () => {
    rejects(() => parseResize({ nodes_to_remove: ["1"] }), 400, /node_count/);
    rejects(() => parseResize({ node_count: 1, force: true }), 400, /force/);
    rejects(() => parseResize({ node_count: 1, nodes_to_remove: "1" }), 400, /nodes_to_remove/);
  });
  it("plans a scale down removing named minions, by name or private address", () => {
    const u = plan(bay(), { node_count: 1, nodes_to_remove: ["1", "10.0.0.5"] });
    assert.deepEqual(u, { node_count: 1, nodes_to_remove: ["1", "10.0.0.5"], previous_node_count: 3, requested_at: now.toISOString(), request_id: "req-1" });
  });
  it("refuses minions the bay does not have, listing the ones it has", () => rejects(() => plan(bay(), { node_count: 2, nodes_to_remove: ["7"] }), 400, /7 is not a minion.*0 \(10\.0\.0\.3\)/));
  it("refuses nodes_to_remove when not scaling down, or more of them than nodes going away", () => {
    rejects(() => plan(bay(), { node_count: 3, nodes_to_remove: ["1"] }), 400, /only be given when node_count goes down/);
    rejects(() => plan(bay(), { node_count: 2, nodes_to_remove: ["0", "1"] }), 400, /removes only 1/);
  });
  it("refuses a scale that changes nothing", () => rejects(() => plan(bay(), { node_count: 3, nodes_to_remove: [] }), 400, /already 3/));
});

describe("one operation at a time", () => {
  it("a scale while another operation runs is 409 naming it", () => {
    for (const status of ["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"] as const)
      rejects(() => plan(bay({ status }), { node_count: 2, nodes_to_remove: [] }), 409, new RegExp(status));
  });
  it("a scale of a failed bay is 400, as Magnum (updates only from a complete stack)", () => rejects(() => plan(bay({ status: "CREATE_FAILED" }), { node_count: 2, nodes_to_remove: [] }), 400, /CREATE_FAILED/));
  it("delete interrupts a create or an update, but not another delete", () => {
    assert.doesNotThrow(() => checkDeletable(bay({ status: "CREATE_IN_PROGRESS" })));
    assert.doesNotThrow(() => checkDeletable(bay({ status: "UPDATE_FAILED" })));
    rejects(() => checkDeletable(bay({ status: "DELETE_IN_PROGRESS" })), 409, /DELETE_IN_PROGRESS/);
  });
});
