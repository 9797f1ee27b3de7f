import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { shortId } from "../../shared/domain/short-id.ts";
import { acceptBay, parseBayRequest } from "../../shared/domain/bay.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { canTransition, bayStatusFromStack } from "../../shared/domain/status.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { parseClusterRequest } from "../../shared/domain/cluster.ts";

const owner = { projectId: "p1", userId: "u1" };
const model = { coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public" };

function rejects(fn: () => unknown, status: number, mention: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    assert.equal(e.status, status);
    assert.match(e.detail, mention);
    return true;
  });
}

describe("short id (Magnum's short_id.get_id)", () => {
  it("derives the same 12 characters Magnum derives from a uuid", () => {
    // expected values computed with magnum/common/short_id.py's algorithm in Python
    assert.equal(shortId("7852ed01-de61-4905-8baf-137fcd08490c"), "sbo6mf4ff3ib");
    assert.equal(shortId("2449848c-41c5-400f-b435-44d456f79afd"), "ad2byusetbem");
  });
  it("refuses a uuid that is not version 4", () => {
    assert.throws(() => shortId("7852ed01-de61-1905-8baf-137fcd08490c"), /v4/);
  });
});

describe("bay request", () => {
  it("fills Magnum's defaults: one master, one node", () => {
    const r = parseBayRequest({ baymodel_id: "m" });
    assert.deepEqual([r.node_count, r.master_count, r.bay_create_timeout, r.name], [1, 1, null, null]);
  });
  it("answers 400 naming node_count when it is 0", () => rejects(() => parseBayRequest({ baymodel_id: "m", node_count: 0 }), 400, /node_count.*greater or equal to 1/));
  it("answers 400 naming master_count when it is negative", () => rejects(() => parseBayRequest({ baymodel_id: "m", master_count: -2 }), 400, /master_count/));
  it("answers 400 naming bay_create_timeout when it is negative", () => rejects(() => parseBayRequest({ baymodel_id: "m", bay_create_timeout: -1 }), 400, /bay_create_timeout.*greater or equal to 0/));
  it("answers 400 when a count is a string or a fraction", () => {
    rejects(() => parseBayRequest({ baymodel_id: "m", node_count: "3" }), 400, /node_count.*integer/);
    rejects(() => parseBayRequest({ baymodel_id: "m", node_count: 1.5 }), 400, /node_count.*integer/);
  });
  it("answers 400 for a name that does not start with a letter or has spaces", () => {
    rejects(() => parseBayRequest({ baymodel_id: "m", name: "1bay" }), 400, /name.*start with a letter/);
    rejects(() => parseBayRequest({ baymodel_id: "m", name: "my bay" }), 400, /name/);
  });
  it("accepts a 242-character name and refuses 243 (the stack name must fit Heat's 255)", () => {
    assert.equal(parseBayRequest({ baymodel_id: "m", name: "a".repeat(242) }).name?.length, 242);
    rejects(() => parseBayRequest({ baymodel_id: "m", name: "a".repeat(243) }), 400, /name.*maximum.*242/);
  });
  it("answers 400 naming an unknown attribute", () => rejects(() => parseBayRequest({ baymodel_id: "m", nodes: 3 }), 400, /Unknown attribute.*nodes/));
  it("answers 400 when a read-only attribute is sent", () => rejects(() => parseBayRequest({ baymodel_id: "m", status: "CREATE_COMPLETE" }), 400, /status.*read-only/));
  it("answers 400 when baymodel_id is missing", () => rejects(() => parseBayRequest({ name: "x" }), 400, /baymodel_id.*Mandatory/));
});

describe("accepted bay", () => {
  const at = new Date("2026-11-25T10:00:00Z");
  const accept = (timeout: number | null, name: string | null = "k8s") =>
    acceptBay({ name, baymodel_id: "m", node_count: 2, master_count: 1, bay_create_timeout: timeout, discovery_url: null }, "m-uuid", owner, {
      defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "req-1", now: at,
    });
  it("starts in CREATE_IN_PROGRESS with a stack name <name>-<short id of its uuid>", () => {
    const b = accept(10);
    assert.equal(b.status, "CREATE_IN_PROGRESS");
    assert.equal(b.stack_name, `k8s-${shortId(b.uuid)}`);
    assert.ok(b.stack_name.length <= 255);
  });
  it("uses the configured default timeout when none is asked, and no deadline for 0", () => {
    assert.equal(accept(null).bay_create_timeout, 60);
    assert.equal(accept(0).bay_create_timeout, 0);
    assert.equal(accept(0).deadline_at, null);
    assert.equal(accept(10).deadline_at, "2026-11-25T10:15:00.000Z");
  });
  it("names an unnamed bay so its stack name is still valid", () => {
    assert.match(accept(null, null).name, /^bay-[a-z2-7]{8}$/);
  });
});

describe("baymodel", () => {
  it("fills Magnum's defaults", () => {
    const m = newBayModel(model, owner, "t");
    assert.deepEqual(
      [m.network_driver, m.tls_disabled, m.public, m.server_type, m.registry_enabled, m.project_id],
      ["flannel", false, false, "vm", false, "p1"],
    );
  });
  it("answers 400 naming each missing mandatory field", () => {
    for (const f of ["image_id", "keypair_id", "external_network_id", "coe"]) {
      const body: Record<string, unknown> = { ...model };
      delete body[f];
      rejects(() => newBayModel(body, owner, "t"), 400, new RegExp(`${f}.*Mandatory`));
    }
  });
  it("refuses other COEs and network drivers kubernetes cannot use", () => {
    rejects(() => newBayModel({ ...model, coe: "swarm" }, owner, "t"), 400, /not supported/);
    rejects(() => newBayModel({ ...model, network_driver: "weave" }, owner, "t"), 400, /weave.*flannel/);
  });
  it("checks types: dns_nameserver an IPv4, labels string to string, booleans", () => {
    rejects(() => newBayModel({ ...model, dns_nameserver: "8.8.8" }, owner, "t"), 400, /dns_nameserver/);
    rejects(() => newBayModel({ ...model, labels: { a: 1 } }, owner, "t"), 400, /labels\.a/);
    rejects(() => newBayModel({ ...model, tls_disabled: "yes" }, owner, "t"), 400, /tls_disabled.*boolean/);
    rejects(() => newBayModel({ ...model, docker_volume_size: 0 }, owner, "t"), 400, /docker_volume_size/);
  });
});

describe("statuses", () => {
  it("copies Heat's stack statuses and maps unknown failures to the operation's FAILED", () => {
    assert.equal(bayStatusFromStack("CREATE_COMPLETE"), "CREATE_COMPLETE");
    assert.equal(bayStatusFromStack("ROLLBACK_FAILED"), "UPDATE_FAILED");
  });
  it("allows updates only from a COMPLETE status and nothing out of DELETE_COMPLETE", () => {
    assert.ok(canTransition("CREATE_IN_PROGRESS", "CREATE_COMPLETE"));
    assert.ok(canTransition("CREATE_COMPLETE", "UPDATE_IN_PROGRESS"));
    assert.ok(!canTransition("CREATE_FAILED", "UPDATE_IN_PROGRESS"));
    assert.ok(!canTransition("CREATE_COMPLETE", "CREATE_IN_PROGRESS"));
    assert.ok(!canTransition("CREATE_IN_PROGRESS", "UPDATE_COMPLETE"));
    assert.ok(!canTransition("DELETE_COMPLETE", "UPDATE_IN_PROGRESS"));
  });
});

describe("create timeouts are bounded (a week, in minutes)", () => {
  it("a bay's or a cluster's larger timeout is a 400 naming the field, not a deadline past year 275,760", () => {
    const refused = (f: () => unknown, field: string) =>
      assert.throws(f, (e: unknown) => e instanceof ApiError && e.status === 400 && e.detail.includes(field) && e.detail.includes("less or equal to 10080 (a week, in minutes)"));
    refused(() => parseBayRequest({ baymodel_id: "m", bay_create_timeout: 1937190917026155 }), "bay_create_timeout");
    refused(() => parseClusterRequest({ cluster_template_id: "t", create_timeout: 10081 }), "create_timeout");
    assert.equal(parseBayRequest({ baymodel_id: "m", bay_create_timeout: 10080 }).bay_create_timeout, 10080);
  });
});
