import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadTemplate } from "../../shared/templates/load-template.ts";
import { bayOutputs, heatParameters, kubeclusterTemplate, OUTPUTS, PARAMETERS, RequiredParameterNotProvided, stackOutput } from "../../shared/templates/kubernetes-definition.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { acceptBay } from "../../shared/domain/bay.ts";
import { parseClusterRequest, resolveOverrides } from "../../shared/domain/cluster.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import type { Bay, BayModel } from "../../shared/domain/model.ts";

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
  it("names the servers after Magnum's stack name: short enough for system:node:<name> in a 64-character CN, and a valid hostname", () => {
    const long = acceptBay({ name: `A_very.Long_${"x".repeat(230)}`, baymodel_id: bm.uuid, node_count: 1, master_count: 1, bay_create_timeout: null, discovery_url: null }, bm.uuid, { projectId: "p", userId: "u" }, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });
    for (const b of [bay, long]) {
      const prefix = heatParameters(b, bm, ctx).node_name_prefix as string;
      assert.ok(prefix.endsWith(`-${b.stack_name.slice(-12)}`), prefix);
      assert.match(prefix, /^[a-z][a-z0-9-]*$/);
      assert.ok(`system:node:${prefix}-minion-99999`.length <= 64, prefix);
    }
    assert.equal(heatParameters(long, bm, ctx).node_name_prefix, `a-very-long-xxxxxxxx-${long.stack_name.slice(-12)}`);
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
    assert.deepEqual(o, { api_address: "https://172.24.4.10:6443", master_addresses: ["172.24.4.11"], node_addresses: ["172.24.4.12", "172.24.4.13"], minions: {} });
  });
});

describe("network variants: the parameters kubecluster.yaml's conditions take (issue #10)", () => {
  const owner = { projectId: "p", userId: "u" };
  const ctx = { authUrl: "http://ks/v3", username: "demo", tenantName: "demo", userToken: "tok", magnumUrl: "http://bf/v1", discoveryUrl: "http://bf/discovery/x" };
  const model = (over: Record<string, unknown> = {}) =>
    newBayModel({ coe: "kubernetes", image_id: "img", keypair_id: "kp", external_network_id: "public", ...over }, owner, "t");
  const bayOf = (m: BayModel, masters = 1, overrides?: Bay["overrides"]): Bay => {
    const b = acceptBay({ name: "k", baymodel_id: m.uuid, node_count: 1, master_count: masters, bay_create_timeout: null, discovery_url: null }, m.uuid, owner, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });
    return overrides ? { ...b, overrides } : b;
  };
  const params = (over: Record<string, unknown> = {}, masters = 1, overrides?: Bay["overrides"]) => {
    const m = model(over);
    return heatParameters(bayOf(m, masters, overrides), m, ctx);
  };
  const NET = ["master_lb_enabled", "floating_ip_enabled", "master_lb_floating_ip_enabled", "lbaas_version", "fixed_network", "fixed_subnet", "master_lb_allowed_cidrs", "octavia_provider", "octavia_lb_algorithm", "dns_nameserver"];
  const net = (p: Record<string, unknown>) => Object.fromEntries(NET.filter((k) => k in p).map((k) => [k, p[k]]));

  it("a baymodel with Magnum's defaults: no load balancer, floating IPs, a network of the bay's own", () => {
    assert.deepEqual(net(params()), { master_lb_enabled: false, floating_ip_enabled: true, master_lb_floating_ip_enabled: true, lbaas_version: "octavia" });
  });
  it("master_lb_enabled: Octavia with the octavia_* and master_lb_allowed_cidrs labels", () => {
    const p = params({ master_lb_enabled: true, labels: { octavia_provider: "ovn", octavia_lb_algorithm: "SOURCE_IP_PORT", master_lb_allowed_cidrs: "10.1.0.0/16, 192.168.0.0/24" } }, 3);
    assert.deepEqual(net(p), { master_lb_enabled: true, floating_ip_enabled: true, master_lb_floating_ip_enabled: true, lbaas_version: "octavia", master_lb_allowed_cidrs: ["10.1.0.0/16", "192.168.0.0/24"], octavia_provider: "ovn", octavia_lb_algorithm: "SOURCE_IP_PORT" });
    assert.equal(p.number_of_masters, 3);
  });
  it("lbaas_version v1 (only when the label asks); v2 and octavia mean Octavia", () => {
    assert.equal(params({ master_lb_enabled: true, labels: { lbaas_version: "v1" } }).lbaas_version, "v1");
    assert.equal(params({ master_lb_enabled: true, labels: { lbaas_version: "V2" } }).lbaas_version, "octavia");
    assert.equal(params({ master_lb_enabled: true, labels: { lbaas_version: "octavia" } }).lbaas_version, "octavia");
  });
  it("master_lb_floating_ip_enabled follows floating_ip_enabled unless the label says (Magnum's documented default)", () => {
    assert.equal(params({ master_lb_enabled: true, floating_ip_enabled: false }).master_lb_floating_ip_enabled, false);
    assert.equal(params({ master_lb_enabled: true, floating_ip_enabled: false, labels: { master_lb_floating_ip_enabled: "true" } }).master_lb_floating_ip_enabled, true);
    assert.equal(params({ master_lb_enabled: true, labels: { master_lb_floating_ip_enabled: "False" } }).master_lb_floating_ip_enabled, false);
  });
  it("floating_ip_enabled false, an existing network and subnet, and dns_nameserver reach the stack", () => {
    const p = params({ floating_ip_enabled: false, fixed_network: "net-a", fixed_subnet: "sub-a", dns_nameserver: "10.0.0.53" });
    assert.deepEqual(net(p), { master_lb_enabled: false, floating_ip_enabled: false, master_lb_floating_ip_enabled: false, lbaas_version: "octavia", fixed_network: "net-a", fixed_subnet: "sub-a", dns_nameserver: "10.0.0.53" });
  });
  it("a cluster's overrides (POST /v1/clusters) reach the stack the same way, over its template's", () => {
    const p = params({ fixed_network: "tpl-net", fixed_subnet: "tpl-sub", labels: { octavia_provider: "ovn" } }, 3, { master_lb_enabled: true, floating_ip_enabled: false, fixed_network: "c-net", fixed_subnet: "c-sub", labels: { lbaas_version: "v1" } });
    // labels are the cluster's alone (merge_labels merges them when stored, see resolveOverrides)
    assert.deepEqual(net(p), { master_lb_enabled: true, floating_ip_enabled: false, master_lb_floating_ip_enabled: false, lbaas_version: "v1", fixed_network: "c-net", fixed_subnet: "c-sub" });
  });
  it("every network parameter names a parameter of kubecluster.yaml", () => {
    const declared = Object.keys(kubeclusterTemplate().template.parameters as Record<string, unknown>);
    for (const row of PARAMETERS) assert.ok(declared.includes(row.param), row.param);
  });
  it("a bay accepted before the rules existed fails at the parameters with the same reason", () => {
    assert.throws(() => params({}, 2), (e: Error) => e instanceof ApiError && e.message === "master_count must be 1 when master_lb_enabled is False.");
  });
});

describe("network variants: refused with 400 before anything is written", () => {
  const owner = { projectId: "p", userId: "u" };
  const template = (over: Record<string, unknown> = {}) =>
    newBayModel({ coe: "kubernetes", image_id: "img", keypair_id: "kp", external_network_id: "public", ...over }, owner, "t");
  const cluster = (body: Record<string, unknown>, tpl: BayModel) => resolveOverrides(parseClusterRequest({ cluster_template_id: tpl.uuid, ...body }), tpl);
  const refused = (fn: () => unknown, detail: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 400 && detail.test(e.message), String(detail));

  it("more than one master without a load balancer, in Magnum's words (template or cluster override)", () => {
    refused(() => cluster({ master_count: 3 }, template()), /^master_count must be 1 when master_lb_enabled is False\.$/);
    refused(() => cluster({ master_count: 2, master_lb_enabled: false }, template({ master_lb_enabled: true })), /^master_count must be 1 when master_lb_enabled is False\.$/);
    assert.deepEqual(cluster({ master_count: 3, master_lb_enabled: true }, template()), { master_lb_enabled: true });
    assert.deepEqual(cluster({ master_count: 3 }, template({ master_lb_enabled: true })), {});
    assert.deepEqual(cluster({ master_count: 1 }, template()), {});
  });
  it("fixed_network and fixed_subnet only together", () => {
    refused(() => cluster({ fixed_network: "net-a" }, template()), /fixed_network net-a needs a fixed_subnet/);
    refused(() => cluster({ fixed_subnet: "sub-a" }, template()), /fixed_subnet sub-a needs its fixed_network/);
    assert.deepEqual(cluster({ fixed_subnet: "sub-b" }, template({ fixed_network: "net-a", fixed_subnet: "sub-a" })), { fixed_subnet: "sub-b" });
  });
  it("an lbaas_version other than v1 / v2 / octavia, and master_lb_allowed_cidrs that are not CIDRs", () => {
    refused(() => cluster({ labels: { lbaas_version: "v3" } }, template()), /Invalid label lbaas_version 'v3'/);
    refused(() => cluster({ labels: { master_lb_allowed_cidrs: "10.0.0.0/8,10.1.0.0/33" } }, template()), /10\.1\.0\.0\/33 is not a CIDR/);
    refused(() => cluster({ labels: { api_master_lb_allowed_cidrs: "example.com/8" } }, template()), /example\.com\/8 is not a CIDR/);
    assert.deepEqual(cluster({ labels: { master_lb_allowed_cidrs: "10.0.0.0/8,fd00::/64" } }, template()).labels, { master_lb_allowed_cidrs: "10.0.0.0/8,fd00::/64" });
  });
});

describe("the outputs table (Magnum's OutputMapping rows)", () => {
  const owner = { projectId: "p", userId: "u" };
  const m = (over: Record<string, unknown> = {}) => newBayModel({ coe: "kubernetes", image_id: "img", keypair_id: "kp", external_network_id: "public", ...over }, owner, "t");
  const outputs = [
    { output_key: "api_address", output_value: "10.0.0.5" },
    { output_key: "kube_masters", output_value: ["172.24.4.11"] },
    { output_key: "kube_masters_private", output_value: ["10.0.0.11"] },
    { output_key: "kube_minions", output_value: ["172.24.4.12", null] },
    { output_key: "kube_minions_private", output_value: ["10.0.0.12", "10.0.0.13"] },
    { output_key: "kube_minions_by_name", output_value: { "0": "10.0.0.12", "2": "10.0.0.13", bad: 7 } },
  ];

  it("has one row per bay field, each naming a kubecluster.yaml output", () => {
    const declared = Object.keys(kubeclusterTemplate().template.outputs as Record<string, unknown>);
    assert.deepEqual(Object.keys(OUTPUTS).sort(), ["api_address", "master_addresses", "minions", "node_addresses"]);
    for (const model of [m(), m({ floating_ip_enabled: false })])
      for (const row of Object.values(OUTPUTS)) {
        const key = typeof row.output === "string" ? row.output : row.output(model);
        assert.ok(declared.includes(key), key);
      }
  });
  it("reads the floating addresses, or the fixed ones when the bay's nodes have no floating IPs (ServerAddressOutputMapping)", () => {
    assert.deepEqual(bayOutputs(outputs, m()), { api_address: "https://10.0.0.5:6443", master_addresses: ["172.24.4.11"], node_addresses: ["172.24.4.12"], minions: { "0": "10.0.0.12", "2": "10.0.0.13" } });
    const fixed = bayOutputs(outputs, m({ floating_ip_enabled: false, tls_disabled: true }));
    assert.deepEqual(fixed, { api_address: "http://10.0.0.5:8080", master_addresses: ["10.0.0.11"], node_addresses: ["10.0.0.12", "10.0.0.13"], minions: { "0": "10.0.0.12", "2": "10.0.0.13" } });
  });
  it("one field alone (what drain-nodes reads): undefined when the stack has no such output or Heat left it null", () => {
    assert.deepEqual(stackOutput(outputs, "minions"), { "0": "10.0.0.12", "2": "10.0.0.13" });
    assert.equal(stackOutput([], "minions"), undefined);
    assert.equal(stackOutput([{ output_key: "kube_minions_by_name", output_value: null }], "minions"), undefined);
    assert.throws(() => (stackOutput as (o: unknown, f: string) => unknown)(outputs, "master_addresses"), /the baymodel decides/);
  });
  it("a stack without outputs gives empty fields", () => {
    assert.deepEqual(bayOutputs([], m()), { api_address: null, master_addresses: [], node_addresses: [], minions: {} });
  });
});

describe("the bay's servers", () => {
  it("are never replaced for their boot script: every OS::Nova::Server ignores user_data updates (new fragments, an upgrade's kube_tag)", () => {
    const { files } = kubeclusterTemplate();
    const servers = Object.values(files)
      .filter((f) => f.trim().startsWith("{"))
      .flatMap((f) => Object.entries((JSON.parse(f).resources ?? {}) as Record<string, { type: string; properties: Record<string, unknown> }>))
      .filter(([, r]) => r.type === "OS::Nova::Server");
    assert.deepEqual(servers.map(([name]) => name).sort(), ["kube-minion", "kube_master"]);
    for (const [name, r] of servers) assert.equal(r.properties.user_data_update_policy, "IGNORE", name);
  });
});
