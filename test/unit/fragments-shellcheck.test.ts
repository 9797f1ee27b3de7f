// The boot fragments (templates/kubernetes/fragments/) as the templates ship them: every one
// passes shellcheck (Debian's package, every severity down to style), also the way a node
// gets the last one (Heat's curl_cli written in), and each is wired into the templates the
// way Heat needs: loaded through python-heatclient's get_file semantics, in boot order, with
// a str_replace parameter for every placeholder and no parameter without one.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadTemplate, shippedScript } from "../../shared/templates/load-template.ts";
import { heatParameters, KUBECLUSTER_PATH } from "../../shared/templates/kubernetes-definition.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { acceptBay } from "../../shared/domain/bay.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const FRAGMENTS = join(ROOT, "templates/kubernetes/fragments");
const SANDBOX = join(ROOT, "scripts/devcloud/node-simulator/sandbox");
const fragments = readdirSync(FRAGMENTS).filter((f) => f.endsWith(".sh")).sort();

interface Finding {
  file: string;
  line: number;
  level: string;
  code: number;
  message: string;
}

/** shellcheck's findings on the files, every severity (Debian's shellcheck package). */
function shellcheck(files: string[]): Promise<Finding[]> {
  return new Promise((resolvePromise, reject) => {
    execFile("shellcheck", ["--format=json1", "--severity=style", "--shell=bash", ...files], (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error("shellcheck is not installed: apt-get install -y shellcheck (Debian's package)"));
        return;
      }
      // exit 1 means findings; anything else without JSON is a shellcheck failure
      try {
        resolvePromise((JSON.parse(stdout) as { comments: Finding[] }).comments);
      } catch {
        reject(new Error(`shellcheck failed: ${stderr || err?.message}`));
      }
    });
  });
}

const show = (fs: Finding[]) => fs.map((f) => `${f.file}:${f.line} SC${f.code} (${f.level}): ${f.message}`).join("\n");

describe("boot fragments under shellcheck", () => {
  let findings: Finding[];
  before(async () => {
    findings = await shellcheck(fragments.map((f) => join(FRAGMENTS, f)));
  });

  it("finds the fragments", () => {
    assert.ok(fragments.length >= 12, fragments.join(", "));
  });

  for (const f of fragments) {
    it(`${f} passes shellcheck`, () => {
      const mine = findings.filter((x) => x.file.endsWith(`/${f}`));
      assert.deepEqual(mine, [], show(mine));
    });
  }

  it("wc-notify.sh passes with Heat's curl_cli written in, as a node gets it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-sc-"));
    try {
      const curl = "curl -i -X POST -H 'X-Auth-Token: gAAAAABk' -H 'Content-Type: application/json' -H 'Accept: application/json' http://heat:8004/v1/p/stacks/s/i/resources/master_wait_handle/signal";
      const rendered = join(dir, "wc-notify.sh");
      writeFileSync(rendered, readFileSync(join(FRAGMENTS, "wc-notify.sh"), "utf8").replaceAll("$WAIT_CURL", curl));
      const found = await shellcheck([rendered]);
      assert.deepEqual(found, [], show(found));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the node sandbox's own scripts pass too", async () => {
    const found = await shellcheck(readdirSync(SANDBOX).filter((f) => f.endsWith(".sh")).map((f) => join(SANDBOX, f)));
    assert.deepEqual(found, [], show(found));
  });
});

describe("boot fragments in the templates", () => {
  const { template, files } = loadTemplate(KUBECLUSTER_PATH);
  const url = (f: string) => pathToFileURL(join(FRAGMENTS, f)).href;
  const nested = (name: string) => JSON.parse(files[pathToFileURL(join(ROOT, "templates/kubernetes", name)).href]);
  const parts = (name: string, resource: string) => nested(name).resources[resource].properties.parts as Array<{ config: any }>;
  const fileOf = (part: { config: any }) => (part.config.get_file ?? part.config.str_replace.template.get_file) as string;

  it("every fragment is loaded into the stack's files through get_file, as the source without its comment lines (same line numbers)", () => {
    assert.ok(template.resources, "kubecluster.yaml loaded");
    for (const f of fragments) {
      const source = readFileSync(join(FRAGMENTS, f), "utf8");
      const shipped = files[url(f)];
      assert.equal(shipped, shippedScript(source), f);
      assert.equal(shipped.split("\n").length, source.split("\n").length, `${f}: line numbers kept`);
      // every line that is not a comment is shipped as written
      source.split("\n").forEach((line, i) => {
        if (!/^\s*#(?!!)/.test(line)) assert.equal(shipped.split("\n")[i], line, `${f}:${i + 1}`);
      });
    }
  });

  it("the largest node's fragments fit Nova's user_data limit (65,535 bytes of base64) with room for the parameters and MIME headers", () => {
    const size = (name: string, resource: string) => parts(name, resource).reduce((n, p) => n + Buffer.byteLength(files[fileOf(p)] ?? ""), 0);
    for (const [name, resource] of [["kubemaster.yaml", "kube_master_init"], ["kubeminion.yaml", "kube_minion_init"]] as const) {
      const base64 = Math.ceil(size(name, resource) / 3) * 4;
      assert.ok(base64 <= 60_000, `${name}: ${base64} bytes of base64 before parameters`);
    }
  });

  for (const [name, resource, server, role] of [["kubemaster.yaml", "kube_master_init", "kube_master", "master"], ["kubeminion.yaml", "kube_minion_init", "kube-minion", "minion"]] as const) {
    it(`${name}: the server boots from a MultipartMime of the parameters, the library, the fragments, then the wait-condition signal`, () => {
      const t = nested(name);
      assert.deepEqual(t.resources[server].properties.user_data, { get_resource: resource });
      assert.equal(t.resources[server].properties.user_data_format, "RAW");
      assert.equal(t.resources[resource].type, "OS::Heat::MultipartMime");
      const order = parts(name, resource).map(fileOf);
      assert.equal(order[0], url(`write-heat-params-${role}.sh`));
      assert.equal(order[1], url("boot-lib.sh"), "the library installs itself before the parts that source it");
      assert.equal(order.at(-1), url("wc-notify.sh"));
      assert.ok(order.includes(url(`make-certs-${role}.sh`)) && order.includes(url(`configure-kubernetes-${role}.sh`)));
      assert.ok(order.indexOf(url(`make-certs-${role}.sh`)) < order.indexOf(url(`configure-kubernetes-${role}.sh`)));
      const signal = parts(name, resource).at(-1)!.config.str_replace.params;
      assert.deepEqual(signal, { $WAIT_CURL: { get_attr: [`${role}_wait_handle`, "curl_cli"] } });
      assert.equal(t.resources[`${role}_wait_condition`].properties.handle.get_resource, `${role}_wait_handle`);
      assert.deepEqual(t.resources[`${role}_wait_condition`].properties.timeout, { get_param: "wait_condition_timeout" });
    });

    it(`${name}: write-heat-params-${role}.sh has a str_replace parameter for each placeholder, and none without one`, () => {
      const first = parts(name, resource)[0].config.str_replace;
      const text = readFileSync(join(FRAGMENTS, `write-heat-params-${role}.sh`), "utf8");
      const placeholders = [...text.matchAll(/="(\$[A-Z_]+)"$/gm)].map((m) => m[1]).sort();
      assert.deepEqual(Object.keys(first.params).sort(), placeholders);
      // every parameter the fragments get exists in the nested template (or is an attribute)
      for (const [key, value] of Object.entries(first.params as Record<string, any>)) {
        const p = value.get_param ?? value.list_join?.[1]?.get_param;
        if (p) assert.ok(nested(name).parameters[p], `${key} ← ${p}`);
      }
    });
  }

  it("the baymodel's labels and insecure_registry become the fragments' parameters; unset ones keep the template's defaults", () => {
    const owner = { projectId: "p", userId: "u" };
    const labels = { kube_tag: "v1.34.3", etcd_tag: "v3.5.21", flannel_tag: "v0.26.7", flannel_backend: "host-gw", container_infra_prefix: "reg.example/k8s/", kube_apt_mirror: "http://mirror.example" };
    const model = newBayModel({ coe: "kubernetes", image_id: "ubuntu-24.04", keypair_id: "k", external_network_id: "public", labels, insecure_registry: "reg.example:5000" }, owner, "t");
    const bay = acceptBay({ name: "b", baymodel_id: model.uuid, node_count: 1, master_count: 1, bay_create_timeout: null, discovery_url: null }, model.uuid, owner, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });
    const ctx = { authUrl: "http://ks/v3", username: "u", tenantName: "p", userToken: "t", magnumUrl: "http://bf/v1", discoveryUrl: "http://bf/v1/discovery/x" };
    const p = heatParameters(bay, model, ctx);
    for (const [k, v] of Object.entries(labels)) assert.equal(p[k], v, k);
    assert.equal(p.insecure_registry_url, "reg.example:5000");
    const declared = (template.parameters ?? {}) as Record<string, unknown>;
    for (const k of [...Object.keys(labels), "insecure_registry_url"]) assert.ok(k in declared, `kubecluster.yaml declares ${k}`);
    const bare = heatParameters(bay, newBayModel({ coe: "kubernetes", image_id: "i", keypair_id: "k", external_network_id: "public" }, owner, "t"), ctx);
    for (const k of [...Object.keys(labels), "insecure_registry_url"]) assert.ok(!(k in bare), `${k} left to the template default`);
  });

  it("kubecluster.yaml passes every new parameter of the nested templates down", () => {
    const resources = template.resources as Record<string, any>;
    for (const [group, name] of [["kube_masters", "kubemaster.yaml"], ["kube_minions", "kubeminion.yaml"]]) {
      const given = resources[group].properties.resource_def.properties;
      const declared = nested(name).parameters as Record<string, { default?: unknown }>;
      for (const [p, spec] of Object.entries(declared)) if (spec.default === undefined) assert.ok(p in given, `${group} gives ${p}`);
      for (const p of ["kube_tag", "kube_apt_mirror", "container_infra_prefix", "insecure_registry_url"]) assert.ok(p in given, `${group} gives ${p}`);
    }
    assert.equal(resources.kube_masters.properties.resource_def.properties.master_index, "%index%");
  });
});
