// Issue 15: what a node sends once its signature is verified is still hostile (a node can be
// taken over). Generated report bodies of every shape: either a 400 that echoes nothing, or a
// report whose every field is bounded and printable; applied to a rollout, it never throws,
// never moves another node, and the reason that may reach the bay's status stays bounded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fuzzParams } from "./support/runs.ts";
import { junk, text } from "./support/arbitraries.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { parseReport } from "../../shared/bays/node-agent.ts";
import { advance, applyReport, type UpgradeRecord } from "../../shared/domain/rollout.ts";

const RECORD: UpgradeRecord = advance({
  request_id: "r", requested_at: "2026-12-06T12:00:00.000Z", from_baymodel_id: "a", to_baymodel_id: "b", from_version: "v1.35.8", to_version: "v1.36.2",
  max_batch_size: 1, nodegroup: null,
  nodes: [
    { name: "m-0", role: "master", group: "default-master", step: "pending" },
    { name: "w-0", role: "worker", group: "default-worker", step: "pending" },
  ],
}).record;
const ID = RECORD.nodes[0].command!.id;

const field = fc.oneof(text, junk, fc.constantFrom(ID, "succeeded", "failed", "running", "idle", "v1.36.2", "x".repeat(10_000), "a\u0000b\nc\u2028d\u009b[31m"));
const body = fc.oneof(
  junk,
  fc.record({ command_id: field, result: field, version: field, step: field, reason: field }, { requiredKeys: [] }),
  fc.record({ command_id: fc.constant(ID), result: fc.constantFrom("succeeded", "failed"), version: fc.constantFrom("v1.36.2", "v1.35.8"), reason: text }, { requiredKeys: ["result"] }),
  fc.dictionary(fc.constantFrom("__proto__", "constructor", "result", "extra"), field),
);

describe("a verified node's report, generated", () => {
  it("is a 400 or a bounded report; applied, it moves only its own node and keeps reasons bounded", () => {
    fc.assert(
      fc.property(body, (b) => {
        let r;
        try {
          r = parseReport(b);
        } catch (e) {
          assert.ok(e instanceof ApiError && e.status === 400, String(e));
          assert.ok(e.detail.length < 200 && !e.detail.includes("xxxxxxxxxx"), "the 400 echoes nothing sent");
          return;
        }
        assert.ok(["running", "succeeded", "failed", "idle"].includes(r.result));
        for (const v of [r.command_id, r.version, r.step]) if (v !== null && v !== undefined) assert.ok(v.length <= 90 && /^[\x21-\x7e]+$/.test(v), v);
        if (r.reason) assert.ok(r.reason.length <= 512 && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(r.reason), JSON.stringify(r.reason));
        const { record } = applyReport(RECORD, "m-0", r, new Date());
        assert.deepEqual(record.nodes[1], RECORD.nodes[1], "another node never moves");
        const a = advance(record);
        if (a.reason) assert.ok(a.reason.length < 800);
      }),
      fuzzParams(3000),
    );
  });
});
