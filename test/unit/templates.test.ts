import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadTemplate } from "../../shared/templates/load-template.ts";
import { bayOutputs, heatParameters, RequiredParameterNotProvided } from "../../shared/templates/kubernetes-definition.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { acceptBay } from "../../shared/domain/bay.ts";

describe("template loader (python-heatclient's get_template_contents)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bf-tpl-"));
  mkdirSync(join(dir, "fragments"));
  writeFileSync(join(dir, "fragments", "hello.sh"), "#!/bin/sh\necho hi\n");
  writeFileSync(join(dir, "child.yaml"), "heat_template_version: 2016-10-14\nresources:\n  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      config: {get_file: fragments/hello.sh}\n");
  writeFileSync(
    join(dir, "parent.yaml"),
    "heat_template_version: 2016-10-14\nresources:\n  group:\n    type: OS::Heat::ResourceGroup\n    properties:\n      count: 2\n      resource_def:\n        type: child.yaml\n  one:\n    type: child.yaml\n",
  );
  const { template, files } = loadTemplate(join(dir, "parent.yaml"));
  const childUrl = pathToFileURL(join(dir, "child.yaml")).href;
  const fragUrl = pathToFileURL(join(dir, "fragments", "hello.sh")).href;

  it("keeps heat_template_version a string (not a Date)", () => {
    assert.equal(template.heat_template_version, "2016-10-14");
  });
  it("rewrites nested types, also inside a ResourceGroup's resource_def, to file:// URLs", () => {
    const res = template.resources as Record<string, any>;
    assert.equal(res.group.properties.resource_def.type, childUrl);
    assert.equal(res.one.type, childUrl);
  });
  it("puts each nested template (as JSON, its own references rewritten) and each get_file under its URL", () => {
    assert.deepEqual(Object.keys(files).sort(), [childUrl, fragUrl].sort());
    assert.equal(files[fragUrl], "#!/bin/sh\necho hi\n");
    const child = JSON.parse(files[childUrl]);
    assert.equal(child.resources.cfg.properties.config.get_file, fragUrl);
  });
});

describe("kubernetes template definition", () => {
  const owner = { projectId: "p", userId: "u" };
  const ctx = { authUrl: "http://ks/v3", username: "demo", tenantName: "demo", userToken: "tok", magnumUrl: "http://bf/v1", discoveryUrl: "http://bf/discovery/x" };
  const bm = newBayModel({ coe: "kubernetes", image_id: "img", keypair_id: "kp", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium", docker_volume_size: 10, labels: { flannel_network_cidr: "10.9.0.0/16" } }, owner, "t");
  const bay = acceptBay({ name: "k", baymodel_id: bm.uuid, node_count: 3, master_count: 1, bay_create_timeout: null, discovery_url: null }, bm.uuid, owner, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });

  it("maps bay and baymodel attributes to Magnum's kubecluster parameters", () => {
    const p = heatParameters(bay, bm, ctx);
    assert.equal(p.number_of_minions, 3);
    assert.equal(p.number_of_masters, 1);
    assert.equal(p.ssh_key_name, "kp");
    assert.equal(p.server_image, "img");
    assert.equal(p.minion_flavor, "m1.small");
    assert.equal(p.master_flavor, "m1.medium");
    assert.equal(p.external_network, "public");
    assert.equal(p.flannel_network_cidr, "10.9.0.0/16");
    assert.equal(p.bay_uuid, bay.uuid);
    assert.equal(p.discovery_url, "http://bf/discovery/x");
    assert.equal(p.tls_disabled, false);
    assert.ok(!("kubernetes_port" in p), "left to the template default when TLS is on");
  });
  it("switches to HTTP on 8080 when TLS is disabled, as Magnum does", () => {
    const p = heatParameters(bay, { ...bm, tls_disabled: true }, ctx);
    assert.deepEqual([p.loadbalancing_protocol, p.kubernetes_port], ["HTTP", 8080]);
  });
  it("fails naming a required parameter that has no value", () => {
    assert.throws(() => heatParameters(bay, bm, { ...ctx, authUrl: undefined as unknown as string }), RequiredParameterNotProvided);
  });
  it("turns stack outputs into api_address and addresses", () => {
    const o = bayOutputs([
      { output_key: "api_address", output_value: "172.24.4.10" },
      { output_key: "kube_masters", output_value: ["172.24.4.11"] },
      { output_key: "kube_minions", output_value: ["172.24.4.12", "172.24.4.13"] },
    ], bm);
    assert.deepEqual(o, { api_address: "https://172.24.4.10:6443", master_addresses: ["172.24.4.11"], node_addresses: ["172.24.4.12", "172.24.4.13"] });
  });
});
