// The real OpenStack client against Bayforge, unchanged: Debian's python3-openstackclient with
// a magnumclient runs `openstack coe ...` as a user would, finding Bayforge only through the
// Keystone catalog (the magnum plugin has no endpoint override). Two clients run this suite:
// Debian's python3-magnumclient 4.0 (test/e2e/openstack-client.test.ts) and the client's
// current source (test/e2e/openstack-client-current.test.ts, vendored in test/vendor), which
// speaks the newer microversions: nodegroups, credential rotation, cluster_id.
//
// So that neither the catalog's RegionOne entries (http://127.0.0.1:9511/v1, maybe in use by
// someone's `npm start`) nor a concurrent run are disturbed, the test registers its own
// Bayforge (random port) as `container-infra` in a region of its own, and the client runs
// with a copy of the dev cloud's clouds.yaml whose `devcloud-demo` cloud names that region.
// The region and its endpoints are removed afterwards (and, when a run was killed, by the
// next run: the region's description holds the pid that made it).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import yaml from "js-yaml";
import { api, ROOT, startBayforge, type BayforgeProcess } from "./bayforge-process.ts";
import { cloudsYamlPath, devcloudAuthUrl } from "./devcloud.ts";
import { currentMagnumclientPath } from "./magnumclient-current.ts";
import { driveCaRotationAsAgents } from "./standin-agent.ts";
import { openstackFromEnv, type OpenStack } from "../../shared/adapters/openstack/index.ts";

/** `debian`: python3-magnumclient 4.0 as Debian ships it; `current`: its current source (test/vendor). */
export type Client = "debian" | "current";

export function oscSuite(client: Client): void {
  const RUN = `osc${client === "current" ? "c" : ""}${Date.now().toString(36)}`;
  const REGION = `bf-osc-${process.pid}-${RUN}`;
  const REGION_PREFIX = "bf-osc-";
  const TPL = `${RUN}-tpl`;
  const CLUSTER = `${RUN}-c`;
  const COMMAND_TIMEOUT_MS = 60_000;
  // The client's resize request is accepted (POST /v1/clusters/<uuid>/actions/resize
  // {"node_count": 2} → 202 {"uuid"}), but the bay ends UPDATE_FAILED: Heat stored the trust
  // of the create's request with the stack (heat_keystoneclient.create_trust_context reuses a
  // trust-scoped caller's trust), Bayforge deletes that trust once the create completed
  // (worker/steps/poll-bay.ts → releaseAfterOperation), and Heat's PATCH of the stack then loads
  // the stack's stored context with the deleted trust: Keystone 401 "Could not find trust",
  // Heat 500. Remove this skip when the stack's trust outlives the operation.
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  let bf: BayforgeProcess;
  let admin: OpenStack;
  let demo: OpenStack;
  let openstack: string; // the `openstack` command
  let work: string; // temp dir: the client's clouds.yaml, the kubeconfig
  let clientClouds: string; // clouds.yaml with devcloud-demo in REGION
  const endpointIds: string[] = [];
  let regionCreated = false;

  let tplUuid: string;
  let clusterUuid: string;
  let stackId: string;
  let apiAddress: string;

  // ------------------------------------------------------------------ the client

  interface Run {
    cmd: string;
    code: number | null;
    stdout: string;
    stderr: string;
  }

  /**
   * Runs `openstack ...args` as the demo user against the test's Bayforge (as the dev cloud's
   * admin with `admin`), or as `cloud` on the dev cloud's own clouds.yaml.
   */
  function osc(args: string[], o: { cloud?: string; admin?: boolean } = {}): Promise<Run> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      // nothing from the caller's OpenStack or Python setup leaks into the client
      if (v !== undefined && !k.startsWith("OS_") && !k.startsWith("PYTHON")) env[k] = v;
    }
    // the current client first on the path: Debian's openstack then loads it instead of 4.0
    if (client === "current") env.PYTHONPATH = currentMagnumclientPath();
    Object.assign(env, {
      OS_CLIENT_CONFIG_FILE: o.cloud ? cloudsYamlPath() : clientClouds,
      OS_CLOUD: o.cloud ?? (o.admin ? "devcloud-admin" : "devcloud-demo"),
      SHELL: process.env.SHELL || "/bin/bash", // `coe cluster config` reads $SHELL
    });
    const cmd = `openstack ${args.join(" ")}${o.cloud ? ` (cloud ${o.cloud})` : ""}`;
    return new Promise((resolve) => {
      const child = spawn(openstack, args, { env, cwd: work, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        stderr += `\n[killed: no answer within ${COMMAND_TIMEOUT_MS / 1000} s]`;
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          /* gone */
        }
      }, COMMAND_TIMEOUT_MS);
      child.on("error", (err) => {
        clearTimeout(timer);
        resolve({ cmd, code: -1, stdout, stderr: `${stderr}\n${err.message}` });
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ cmd, code, stdout, stderr });
      });
    });
  }

  const explain = (r: Run) => `${r.cmd} exited ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;

  /** Runs the command and asserts it succeeded; returns its stdout. */
  async function ok(args: string[], o: { cloud?: string; admin?: boolean } = {}): Promise<string> {
    const r = await osc(args, o);
    assert.equal(r.code, 0, explain(r));
    return r.stdout;
  }

  /** `-f json` output; magnumclient prints "Request to create ... accepted" before the JSON of some commands. */
  async function okJson(args: string[], o: { cloud?: string; admin?: boolean } = {}): Promise<any> {
    const r = await osc([...args, "-f", "json"], o);
    assert.equal(r.code, 0, explain(r));
    const start = r.stdout.search(/^[[{]/m);
    assert.ok(start >= 0, `no JSON in the output\n${explain(r)}`);
    try {
      return JSON.parse(r.stdout.slice(start));
    } catch (err) {
      assert.fail(`unparsable JSON (${(err as Error).message})\n${explain(r)}`);
    }
  }

  /** Polls `coe cluster show` until the cluster leaves *_IN_PROGRESS; returns what the client shows. */
  async function waitForCluster(name: string, timeoutMs: number): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let c: any;
    while (Date.now() < deadline) {
      c = await okJson(["coe", "cluster", "show", name]);
      if (!String(c.status).endsWith("_IN_PROGRESS")) return c;
      await new Promise((r) => setTimeout(r, 2000));
    }
    throw new Error(`cluster ${name} still ${c?.status} after ${timeoutMs / 1000} s (${c?.status_reason})\n--- bayforge log (tail):\n${bf.logs().split("\n").slice(-30).join("\n")}`);
  }

  function openssl(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return promisify(execFile)("openssl", args, { cwd: work, timeout: COMMAND_TIMEOUT_MS });
  }

  // ------------------------------------------------------------------ Keystone (as admin)

  async function keystone(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${devcloudAuthUrl()}${path}`, {
      method,
      headers: { "x-auth-token": await admin.session.token(), "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok && !(method === "DELETE" && res.status === 404)) throw new Error(`Keystone ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  async function removeRegion(region: string): Promise<void> {
    const { endpoints } = await keystone("GET", `/endpoints?region_id=${encodeURIComponent(region)}`);
    for (const e of endpoints as Array<{ id: string; region_id: string }>) {
      if (e.region_id === region) await keystone("DELETE", `/endpoints/${e.id}`);
    }
    await keystone("DELETE", `/regions/${encodeURIComponent(region)}`);
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  };

  /** Regions left by runs that were killed before their after hook (their pid is gone). */
  async function removeStaleRegions(): Promise<void> {
    const { regions } = await keystone("GET", "/regions");
    for (const r of regions as Array<{ id: string; description: string }>) {
      const pid = Number(/\bpid (\d+)\b/.exec(r.description ?? "")?.[1]);
      if (r.id.startsWith(REGION_PREFIX) && pid && !alive(pid)) await removeRegion(r.id).catch(() => {});
    }
  }

  // ------------------------------------------------------------------ setup

  before(async () => {
    openstack = (await promisify(execFile)("bash", [join(ROOT, "scripts/devcloud/ensure-openstack-client.sh")], { timeout: 10 * 60_000 })).stdout.trim().split("\n").pop()!;
    work = mkdtempSync(join(tmpdir(), "bf-osc-"));
    admin = openstackFromEnv({ OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-admin" })!;
    demo = openstackFromEnv({ OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-demo" })!;
    await removeStaleRegions();

    bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3", BAYFORGE_RETRY_DELAYS: "2,5,10" } });

    // Bayforge in the catalog, in the test's own region
    const { services } = await keystone("GET", "/services?type=container-infra");
    assert.equal(services.length, 1, `the dev cloud's catalog has one container-infra service: ${JSON.stringify(services)}`);
    await keystone("POST", "/regions", { region: { id: REGION, description: `bayforge openstack-client e2e, pid ${process.pid}` } });
    regionCreated = true;
    for (const iface of ["public", "internal", "admin"]) {
      const { endpoint } = await keystone("POST", "/endpoints", { endpoint: { service_id: services[0].id, interface: iface, region_id: REGION, url: `${bf.url}/v1`, enabled: true } });
      endpointIds.push(endpoint.id);
    }

    // the dev cloud's demo cloud, in that region
    const clouds = yaml.load(readFileSync(cloudsYamlPath(), "utf8")) as { clouds: Record<string, Record<string, unknown>> };
    const demoCloud = clouds.clouds["devcloud-demo"];
    const adminCloud = clouds.clouds["devcloud-admin"];
    assert.ok(demoCloud && adminCloud, `devcloud-demo and devcloud-admin in ${cloudsYamlPath()}`);
    clientClouds = join(work, "clouds.yaml");
    writeFileSync(clientClouds, yaml.dump({ clouds: { "devcloud-demo": { ...demoCloud, region_name: REGION }, "devcloud-admin": { ...adminCloud, region_name: REGION } } }));
  });

  after(async () => {
    // anything the steps did not get to delete: the cluster through Bayforge, else its stack in Heat
    if (bf && clusterUuid) {
      const r = await api(bf.url, "DELETE", `/v1/clusters/${clusterUuid}`).catch(() => undefined);
      if (r?.status === 204) {
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline && (await api(bf.url, "GET", `/v1/clusters/${clusterUuid}`).catch(() => undefined))?.status === 200) {
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    }
    if (demo && stackId) {
      const stack = await demo.heat.findStack(stackId).catch(() => undefined);
      if (stack && stack.stack_status !== "DELETE_COMPLETE") await demo.heat.deleteStack(stack.stack_name, stack.id).catch(() => {});
    }
    await bf?.kill("SIGTERM");
    if (admin) {
      for (const id of endpointIds) await keystone("DELETE", `/endpoints/${id}`).catch(() => {});
      if (regionCreated) await removeRegion(REGION).catch((err) => console.error(`could not remove region ${REGION}: ${err}`));
      await admin.close();
    }
    await demo?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  // ------------------------------------------------------------------ the steps

  describe(`the unchanged OpenStack client (python3-openstackclient + ${client === "current" ? "python-magnumclient's current source" : "python3-magnumclient 4.0"}) against Bayforge`, () => {
    it("coe cluster template create / show", { timeout: 3 * COMMAND_TIMEOUT_MS }, async () => {
      const t = await okJson([
        "coe", "cluster", "template", "create", TPL,
        "--coe", "kubernetes", "--image", "fedora-atomic", "--external-network", "public",
        "--flavor", "m1.small", "--master-flavor", "m1.medium", "--network-driver", "flannel",
      ]);
      assert.match(t.uuid, UUID, JSON.stringify(t));
      tplUuid = t.uuid;
      assert.equal(t.name, TPL);
      assert.equal(t.coe, "kubernetes");
      assert.equal(t.image_id, "fedora-atomic");
      assert.equal(t.external_network_id, "public");
      assert.equal(t.flavor_id, "m1.small");
      assert.equal(t.master_flavor_id, "m1.medium");
      assert.equal(t.network_driver, "flannel");
      assert.equal(t.tls_disabled, false);

      const shown = await okJson(["coe", "cluster", "template", "show", TPL]);
      assert.equal(shown.uuid, tplUuid);
      assert.equal(shown.name, TPL);
      const listed = await okJson(["coe", "cluster", "template", "list"]);
      assert.ok(listed.some((x: { uuid: string; name: string }) => x.uuid === tplUuid && x.name === TPL), JSON.stringify(listed));
    });

    it("coe cluster template update: replace a field, add / replace / remove a label, add and remove a field, as each client sends them; the stored template follows", { timeout: 6 * COMMAND_TIMEOUT_MS }, async () => {
      const stored = async () => (await api(bf.url, "GET", `/v1/clustertemplates/${tplUuid}`)).json;
      if (client === "debian") {
        // 4.0 takes a JSON patch's words: `labels/k=v` is one label, `labels=a=b,c=d` the whole
        // map (sent as the repr of a Python dict, which Magnum reads with ast.literal_eval)
        let t = await okJson(["coe", "cluster", "template", "update", TPL, "add", "labels/extra=on", "http_proxy=http://proxy.example:3128"]);
        assert.deepEqual([t.labels, t.http_proxy], [{ extra: "on" }, "http://proxy.example:3128"], JSON.stringify(t));
        t = await okJson(["coe", "cluster", "template", "update", TPL, "replace", "flavor_id=m1.large", "labels=extra=off,flannel_backend=vxlan"]);
        assert.deepEqual([t.flavor_id, t.labels], ["m1.large", { extra: "off", flannel_backend: "vxlan" }], JSON.stringify(t));
        t = await okJson(["coe", "cluster", "template", "update", TPL, "remove", "labels/extra", "http_proxy"]);
        assert.deepEqual([t.labels, t.http_proxy], [{ flannel_backend: "vxlan" }, "-"], JSON.stringify(t)); // 4.0 prints an unset field as "-"
        await okJson(["coe", "cluster", "template", "update", TPL, "replace", "flavor_id=m1.small"]);
      } else {
        // the current client: options (replace), --label (add /labels/k), --no-label (remove /labels/k)
        let t = await okJson(["coe", "cluster", "template", "update", TPL, "--flavor", "m1.large", "--label", "extra=on", "--label", "flannel_backend=vxlan", "--http-proxy", "http://proxy.example:3128"]);
        assert.deepEqual([t.flavor_id, t.labels, t.http_proxy], ["m1.large", { extra: "on", flannel_backend: "vxlan" }, "http://proxy.example:3128"], JSON.stringify(t));
        t = await okJson(["coe", "cluster", "template", "update", TPL, "--no-label", "extra", "--label", "flannel_backend=host-gw", "--flavor", "m1.small"]);
        assert.deepEqual([t.flavor_id, t.labels], ["m1.small", { flannel_backend: "host-gw" }], JSON.stringify(t));
      }
      const now = await stored();
      assert.equal(now.flavor_id, "m1.small", "the stored template");
      assert.deepEqual(now.labels, { flannel_backend: client === "debian" ? "vxlan" : "host-gw" });
      assert.equal(now.http_proxy, client === "debian" ? null : "http://proxy.example:3128");
      assert.equal(now.uuid, tplUuid);
      assert.equal(now.name, TPL);
      const refused = await osc(["coe", "cluster", "template", "update", TPL, ...(client === "debian" ? ["remove", "image_id"] : ["--docker-volume-size", "0"])]);
      assert.notEqual(refused.code, 0, explain(refused));
      assert.match(refused.stderr, client === "debian" ? /image_id can not be removed/ : /docker_volume_size/, explain(refused));
      assert.deepEqual(await stored(), now, "a refused update changes nothing");
    });

    it("coe cluster create → CREATE_COMPLETE; cluster show / list; the stack is in the demo project", { timeout: 5 * 60_000 }, async () => {
      const out = await ok([
        "coe", "cluster", "create", CLUSTER,
        "--cluster-template", TPL, "--keypair", "demo-key", "--node-count", "1", "--master-count", "1", "--timeout", "20",
      ]);
      const accepted = /^Request to create cluster ([0-9a-f-]{36}) accepted$/m.exec(out);
      assert.ok(accepted, `create answered: ${out}`);
      clusterUuid = accepted[1];

      const c = await waitForCluster(CLUSTER, 180_000);
      assert.equal(c.status, "CREATE_COMPLETE", c.status_reason);
      assert.equal(c.uuid, clusterUuid);
      assert.equal(c.name, CLUSTER);
      assert.equal(c.cluster_template_id, tplUuid);
      assert.equal(c.node_count, 1);
      assert.equal(c.master_count, 1);
      assert.equal(c.keypair, "demo-key");
      assert.equal(c.create_timeout, 20);
      assert.match(c.api_address, /^https:\/\/\d+\.\d+\.\d+\.\d+:6443$/, JSON.stringify(c));
      // python-magnumclient 4.0 predates API 1.13: at `latest` (1.13) the stack is named
      // cluster_id, which 4.0 does not show, so its stack_id is blank, as against current Magnum
      // (and its plugin cannot ask for a microversion); the stack is found in Heat's list below.
      // The current client shows cluster_id.
      if (client === "debian") assert.equal(c.stack_id, "", JSON.stringify(c));
      else assert.match(c.cluster_id, UUID, JSON.stringify(c));
      assert.equal(c.node_addresses.length, 1);
      assert.equal(c.master_addresses.length, 1);
      apiAddress = c.api_address;

      const list = await okJson(["coe", "cluster", "list"]);
      const row = list.find((x: { uuid: string }) => x.uuid === clusterUuid);
      assert.ok(row, `cluster list: ${JSON.stringify(list)}`);
      assert.equal(row.name, CLUSTER);
      assert.equal(row.status, "CREATE_COMPLETE");
      assert.equal(row.node_count, 1);

      // Bayforge drove Heat through the demo user's trust: the cluster and its stack belong to
      // the demo project (Bayforge's own user, an admin, would see every project's stacks in
      // its list, so the project is checked in the stack's link)
      const demoProject = await demo.session.projectId();
      assert.equal(c.project_id, demoProject);
      const demoStacks = await okJson(["stack", "list"], { cloud: "devcloud-demo" });
      const named = demoStacks.filter((s: { "Stack Name": string }) => String(s["Stack Name"]).startsWith(`${CLUSTER}-`));
      assert.equal(named.length, 1, `one stack of the cluster in the demo user's stack list: ${JSON.stringify(demoStacks)}`);
      const listed = named[0];
      assert.equal(listed["Stack Status"], "CREATE_COMPLETE");
      stackId = listed.ID;
      assert.match(stackId, UUID);
      const current = await api(bf.url, "GET", `/v1/clusters/${clusterUuid}`, undefined, { "OpenStack-API-Version": "container-infra latest" });
      assert.equal(current.json.cluster_id, stackId, "today's clients read it as cluster_id");
      const stack = await okJson(["stack", "show", stackId], { cloud: "devcloud-demo" });
      const self = stack.links.find((l: { rel: string }) => l.rel === "self")?.href ?? "";
      assert.match(self, new RegExp(`/v1/${demoProject}/stacks/`), JSON.stringify(stack.links));
      assert.equal(stack.parameters["OS::project_id"], demoProject);
      // what the client asked for reached Heat
      assert.equal(stack.parameters.number_of_minions, "1");
      assert.equal(stack.parameters.number_of_masters, "1");
      assert.equal(stack.parameters.server_image, "fedora-atomic");
      assert.equal(stack.parameters.minion_flavor, "m1.small");
      assert.equal(stack.parameters.master_flavor, "m1.medium");
      assert.equal(stack.parameters.network_driver, "flannel");
      assert.equal(stack.parameters.external_network, "public");
      assert.equal(stack.parameters.ssh_key_name, "demo-key");
      assert.equal(stack.parameters.bay_uuid, clusterUuid);
    });

    it("list views carry Magnum's list fields: cluster template list --fields, cluster list's columns (and the legacy `magnum cluster-list --fields`)", { timeout: 3 * COMMAND_TIMEOUT_MS }, async () => {
      // --fields is decided by the client: it reads the columns from GET /v1/clustertemplates' items
      const fields = ["coe", "image_id", "public", "apiserver_port", "server_type", "tls_disabled", "registry_enabled", "network_driver", "flavor_id", "master_flavor_id", "external_network_id", "hidden"];
      const rows = (await okJson(["coe", "cluster", "template", "list", "--fields", fields.join(",")])) as Array<Record<string, unknown>>;
      const row = rows.find((r) => r.uuid === tplUuid);
      assert.ok(row, JSON.stringify(rows));
      assert.deepEqual(
        [row.coe, row.image_id, row.public, row.server_type, row.tls_disabled, row.registry_enabled, row.network_driver, row.flavor_id, row.master_flavor_id, row.external_network_id, row.hidden],
        ["kubernetes", "fedora-atomic", false, "vm", false, false, "flannel", "m1.small", "m1.medium", "public", false],
        JSON.stringify(row),
      );
      assert.ok("apiserver_port" in row, JSON.stringify(row));
      // the cluster list's own columns (the current client adds health_status, null until the health check has run)
      const clusters = (await okJson(["coe", "cluster", "list"])) as Array<Record<string, unknown>>;
      const c = clusters.find((x) => x.uuid === clusterUuid);
      assert.ok(c, JSON.stringify(clusters));
      assert.deepEqual([c.name, c.keypair, c.node_count, c.master_count, c.status], [CLUSTER, "demo-key", 1, 1, "CREATE_COMPLETE"], JSON.stringify(c));
      if (client === "debian") {
        // the deprecated `magnum` shell of 4.0 (gone from the current source) has --fields on cluster-list,
        // filled from GET /v1/clusters' items: Magnum's list view, at `latest` (the stack as cluster_id)
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OS_") && !k.startsWith("PYTHON")) env[k] = v;
        const out = (await promisify(execFile)("magnum", ["--os-cloud", "devcloud-demo", "--os-region-name", REGION, "cluster-list", "--fields", "cluster_template_id,docker_volume_size,flavor_id,master_flavor_id,create_timeout,labels"], { env: { ...env, OS_CLIENT_CONFIG_FILE: clientClouds }, cwd: work, timeout: COMMAND_TIMEOUT_MS })).stdout;
        const line = out.split("\n").find((l) => l.includes(clusterUuid)) ?? "";
        const cells = line.split("|").map((x) => x.trim()).filter((x, i, a) => i > 0 && i < a.length - 1);
        assert.deepEqual(cells.slice(0, 6), [clusterUuid, CLUSTER, "demo-key", "1", "1", "CREATE_COMPLETE"], out);
        assert.deepEqual(cells.slice(6), [tplUuid, "-", "m1.small", "m1.medium", "20", "{'flannel_backend': 'vxlan'}"], out);
      }
    });

    it("coe cluster resize → UPDATE_COMPLETE with 2 nodes; Heat's stack has number_of_minions 2", { timeout: 5 * 60_000 }, async () => {
      const out = await ok(["coe", "cluster", "resize", CLUSTER, "2"]);
      assert.match(out, new RegExp(`^Request to resize cluster ${CLUSTER} has been accepted\\.$`, "m"));
      const c = await waitForCluster(CLUSTER, 180_000);
      assert.equal(c.status, "UPDATE_COMPLETE", c.status_reason);
      assert.equal(c.node_count, 2);
      assert.equal(c.node_addresses.length, 2);
      const stack = await okJson(["stack", "show", stackId], { cloud: "devcloud-demo" });
      assert.equal(stack.stack_status, "UPDATE_COMPLETE");
      assert.equal(stack.parameters.number_of_minions, "2", JSON.stringify(stack.parameters));
      const row = (await okJson(["coe", "cluster", "list"])).find((x: { uuid: string }) => x.uuid === clusterUuid);
      assert.equal(row?.node_count, 2);
    });

    it("coe cluster config writes a kubeconfig whose client certificate the cluster's CA signed", { timeout: 3 * COMMAND_TIMEOUT_MS }, async () => {
      const dir = join(work, "kube");
      mkdirSync(dir); // the client writes into --dir, it does not create it
      const out = await ok(["coe", "cluster", "config", CLUSTER, "--dir", dir, "--force", "--output-certs"]);
      assert.match(out, new RegExp(`^export KUBECONFIG=${join(dir, "config")}$`, "m"));

      // magnumclient 4 writes the certificates inline (base64) in `config`; --output-certs also
      // writes them as ca.pem, cert.pem, key.pem
      const kubeconfig = yaml.load(readFileSync(join(dir, "config"), "utf8")) as any;
      const cluster = kubeconfig.clusters[0].cluster;
      const user = kubeconfig.users[0].user;
      assert.equal(cluster.server, apiAddress);
      assert.equal(kubeconfig.clusters[0].name, CLUSTER);
      assert.equal(kubeconfig["current-context"], kubeconfig.contexts[0].name);
      const inline = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
      const ca = inline(cluster["certificate-authority-data"]);
      const cert = inline(user["client-certificate-data"]);
      const key = inline(user["client-key-data"]);
      assert.equal(readFileSync(join(dir, "ca.pem"), "utf8"), ca);
      assert.equal(readFileSync(join(dir, "cert.pem"), "utf8"), cert);
      assert.equal(readFileSync(join(dir, "key.pem"), "utf8"), key);
      assert.match(cert, /^-----BEGIN CERTIFICATE-----/);
      assert.match(key, /^-----BEGIN (RSA )?PRIVATE KEY-----/);

      // the CA is the cluster's, as the certificates API serves it
      const served = await api(bf.url, "GET", `/v1/certificates/${clusterUuid}`);
      assert.equal(served.status, 200, JSON.stringify(served.json));
      assert.equal(ca.trim(), String(served.json.pem).trim(), "the kubeconfig's CA is GET /v1/certificates/<uuid>'s");
      writeFileSync(join(work, "served-ca.pem"), served.json.pem);

      // openssl: the client certificate was signed by that CA, for the CSR the client made
      // (subject kept), and the key the client kept is the certificate's
      const verify = await openssl(["verify", "-CAfile", join(work, "served-ca.pem"), join(dir, "cert.pem")]);
      assert.match(verify.stdout, /cert\.pem: OK/, `${verify.stdout}${verify.stderr}`);
      const subject = (await openssl(["x509", "-in", join(dir, "cert.pem"), "-noout", "-subject"])).stdout;
      assert.match(subject, /CN\s*=\s*admin/, subject);
      assert.match(subject, /O\s*=\s*system:masters/, subject);
      const certPub = (await openssl(["x509", "-in", join(dir, "cert.pem"), "-noout", "-pubkey"])).stdout;
      const keyPub = (await openssl(["pkey", "-in", join(dir, "key.pem"), "-pubout"])).stdout;
      assert.ok(certPub.includes("BEGIN PUBLIC KEY"), certPub);
      assert.equal(certPub, keyPub, "the private key matches the certificate");
    });

    it("coe cluster list with --limit, --sort-key and --sort-dir (sent with a trailing slash)", { timeout: 3 * COMMAND_TIMEOUT_MS }, async () => {
      const one = await okJson(["coe", "cluster", "list", "--limit", "1", "--sort-key", "name", "--sort-dir", "desc"]);
      assert.equal(one.length, 1, JSON.stringify(one));
      const all = (await okJson(["coe", "cluster", "list", "--sort-key", "name", "--sort-dir", "asc"])) as Array<{ name: string }>;
      assert.ok(all.some((x) => x.name === CLUSTER), JSON.stringify(all));
      const names = all.map((x) => x.name);
      assert.deepEqual(names, [...names].sort(), "sorted by name");
    });

    it("coe cluster update node_count 1 → UPDATE_COMPLETE with 1 node", { timeout: 5 * 60_000 }, async () => {
      // 4.0 takes a JSON patch's words; the current client, options (the same PATCH on the wire)
      const out = await ok(["coe", "cluster", "update", CLUSTER, ...(client === "debian" ? ["replace", "node_count=1"] : ["--node-count", "1"])]);
      assert.match(out, /Request to update cluster .* has been accepted\./, out);
      const c = await waitForCluster(CLUSTER, 180_000);
      assert.equal(c.status, "UPDATE_COMPLETE", c.status_reason);
      assert.equal(c.node_count, 1);
    });

    it("coe nodegroup create / list / show / update / delete: an extra group of another flavor in the cluster's stack", { timeout: 10 * 60_000 }, async () => {
      // the current client speaks 1.14: the group's nodes register with its labels and taints
      const labels = client === "current" ? ["--node-labels", "example.com/pool=extra", "--node-taints", "dedicated=extra:NoSchedule"] : [];
      const made = await ok(["coe", "nodegroup", "create", CLUSTER, "extra", "--node-count", "1", "--flavor", "m1.large", ...labels]);
      assert.match(made, /Request to create nodegroup .* accepted/, made);
      assert.equal((await waitForCluster(CLUSTER, 180_000)).status, "UPDATE_COMPLETE");
      const groups = (await okJson(["coe", "nodegroup", "list", CLUSTER])) as Array<{ name: string }>;
      assert.deepEqual(groups.map((g) => g.name), ["default-master", "default-worker", "extra"]);
      const g = await okJson(["coe", "nodegroup", "show", CLUSTER, "extra"]);
      assert.deepEqual([g.status, g.flavor_id, g.node_count, g.is_default], ["CREATE_COMPLETE", "m1.large", 1, false], JSON.stringify(g));
      if (client === "current") {
        assert.deepEqual(g.node_labels, { "example.com/pool": "extra" }, JSON.stringify(g));
        assert.deepEqual(g.node_taints, [{ key: "dedicated", value: "extra", effect: "NoSchedule" }], JSON.stringify(g));
      }
      const stack = await okJson(["stack", "show", stackId], { cloud: "devcloud-demo" });
      assert.equal(stack.parameters[`ng_${String(g.uuid).replace(/-/g, "").slice(0, 12)}_flavor`], "m1.large", "the group's servers in the cluster's stack, of its flavor");
      const updated = await ok(["coe", "nodegroup", "update", CLUSTER, "extra", ...(client === "debian" ? ["replace", "max_node_count=3"] : ["--max-nodes", "3"])]);
      assert.match(updated, /Request to update nodegroup .* has been accepted\./, updated);
      assert.equal((await okJson(["coe", "nodegroup", "show", CLUSTER, "extra"])).max_node_count, 3);
      const gone = await ok(["coe", "nodegroup", "delete", CLUSTER, "extra"]);
      assert.match(gone, /Request to delete nodegroup .* has been accepted/, gone);
      assert.equal((await waitForCluster(CLUSTER, 180_000)).status, "UPDATE_COMPLETE");
      const shown = await osc(["coe", "nodegroup", "show", CLUSTER, "extra"]);
      assert.notEqual(shown.code, 0, explain(shown));
      assert.match(shown.stderr, /could not be found/, explain(shown));
    });

    it("coe ca show / sign / rotate: the cluster's CA, a CSR signed by it, then a new CA once the nodes (their agents stood in for) ran the rotation", { timeout: 10 * COMMAND_TIMEOUT_MS }, async () => {
      const served = await api(bf.url, "GET", `/v1/certificates/${clusterUuid}`);
      const shown = await ok(["coe", "ca", "show", CLUSTER]);
      assert.equal(shown.trim(), String(served.json.pem).trim(), "ca show prints the cluster's CA");
      writeFileSync(join(work, "ca-now.pem"), served.json.pem);
      await openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "signed.key", "-subj", "/CN=ops-user", "-out", "signed.csr"]);
      const signed = await ok(["coe", "ca", "sign", CLUSTER, join(work, "signed.csr")]);
      writeFileSync(join(work, "signed.pem"), signed);
      const verify = await openssl(["verify", "-CAfile", join(work, "ca-now.pem"), join(work, "signed.pem")]);
      assert.match(verify.stdout, /signed\.pem: OK/, `${verify.stdout}${verify.stderr}`);
      const rotated = await ok(["coe", "ca", "rotate", CLUSTER]);
      assert.match(rotated, /Request to rotate the CA certificate for cluster .* has been accepted\./, rotated);
      // carried to the nodes: the light profile runs none, so the stand-in answers for their agents;
      // here they keep their kubelet identities of the old CA to the end (a certificate of either
      // CA is accepted while the rotation runs; magnum-ui's replay renews them at reissue)
      const { bay, steps } = await driveCaRotationAsAgents({ url: bf.url, bay: clusterUuid, call: (m, p, b, h) => api(bf.url, m, p, b, h), renewOnReissue: false });
      assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
      assert.deepEqual([...new Set(steps.map((s) => s.action))], ["trust-ca", "reissue", "drop-ca"]);
      const after = await ok(["coe", "ca", "show", CLUSTER]);
      assert.equal(after.match(/-----BEGIN CERTIFICATE-----/g)?.length, 1, `the new CA alone:\n${after}`);
      assert.notEqual(after.trim(), shown.trim(), "a new CA");
      writeFileSync(join(work, "ca-new.pem"), after);
      // a CSR signed now verifies against the new CA, and no longer against the old
      const resigned = await ok(["coe", "ca", "sign", CLUSTER, join(work, "signed.csr")]);
      writeFileSync(join(work, "resigned.pem"), resigned);
      const ok2 = await openssl(["verify", "-CAfile", join(work, "ca-new.pem"), join(work, "resigned.pem")]);
      assert.match(ok2.stdout, /resigned\.pem: OK/, `${ok2.stdout}${ok2.stderr}`);
      await assert.rejects(openssl(["verify", "-CAfile", join(work, "ca-now.pem"), join(work, "resigned.pem")]), "not signed by the old CA");
    });

    it("coe stats list: the project's clusters and nodes", { timeout: 3 * COMMAND_TIMEOUT_MS }, async () => {
      const project = (await demo.session.projectId()) as string;
      const out = await ok(["coe", "stats", "list", project]);
      const clusters = Number(out.match(/\|\s*clusters\s*\|\s*(\d+)\s*\|/)?.[1]);
      const nodes = Number(out.match(/\|\s*nodes\s*\|\s*(\d+)\s*\|/)?.[1]);
      assert.ok(clusters >= 1 && nodes >= 2, out);
    });

    if (client === "current")
      it("coe credential rotate: the stack gets a new trustee user, the cluster ends UPDATE_COMPLETE", { timeout: 5 * 60_000 }, async () => {
        const before = (await okJson(["stack", "show", stackId], { cloud: "devcloud-demo" })).parameters.trustee_user_id;
        const out = await ok(["coe", "credential", "rotate", CLUSTER]);
        assert.match(out, /Request to rotate credentials for cluster .* accepted\./, out);
        const c = await waitForCluster(CLUSTER, 180_000);
        assert.equal(c.status, "UPDATE_COMPLETE", c.status_reason);
        const now = (await okJson(["stack", "show", stackId], { cloud: "devcloud-demo" })).parameters.trustee_user_id;
        assert.ok(before && now && now !== before, `trustee ${before} → ${now}`);
      });

    it("coe quotas create / show / update / list / delete as the admin; a member may only read its own", { timeout: 10 * COMMAND_TIMEOUT_MS }, async () => {
      const project = (await demo.session.projectId()) as string;
      const q = ["--project-id", project, "--resource", "Cluster"];
      // magnumclient prints its tables, and prints a failure without failing: read the rows
      const row = (out: string, key: string) => out.match(new RegExp(`\\|\\s*${key}\\s*\\|\\s*(\\S+)\\s*\\|`))?.[1];
      const made = await ok(["coe", "quotas", "create", ...q, "--hard-limit", "9"], { admin: true });
      assert.equal(row(made, "hard_limit"), "9", made);
      assert.equal(row(made, "project_id"), project, made);
      const refused = await ok(["coe", "quotas", "update", ...q, "--hard-limit", "99"]);
      assert.match(refused, /Update quota for project_id .* failed: Forbidden \(HTTP 403\)/, "a member may not change its quota");
      const shown = await ok(["coe", "quotas", "show", ...q]);
      assert.equal(row(shown, "hard_limit"), "9", "a member reads its own quota");
      const updated = await ok(["coe", "quotas", "update", ...q, "--hard-limit", "12"], { admin: true });
      assert.equal(row(updated, "hard_limit"), "12", updated);
      const listed = await ok(["coe", "quotas", "list", "--all-tenants"], { admin: true });
      assert.match(listed, new RegExp(`${project}.*Cluster.*12|${project}[\\s\\S]*12`), listed);
      const gone = await ok(["coe", "quotas", "delete", ...q], { admin: true });
      assert.match(gone, /Request to delete quota for project id .* has been accepted/, gone);
      const after = await osc(["coe", "quotas", "show", ...q], { admin: true });
      assert.notEqual(after.code, 0, "shown no more");
      assert.match(after.stderr, /could not be found/, explain(after));
    });

    it("coe service list as the admin: Bayforge's api and worker, up; a member is refused", { timeout: 3 * COMMAND_TIMEOUT_MS }, async () => {
      const rows = (await okJson(["coe", "service", "list"], { admin: true })) as Array<{ binary: string; state: string; host: string }>;
      for (const binary of ["bayforge-api", "bayforge-worker"]) {
        const row = rows.find((r) => r.binary === binary);
        assert.ok(row, `${binary} in ${JSON.stringify(rows)}`);
        assert.equal(row.state, "up");
        assert.ok(row.host);
      }
      const member = await osc(["coe", "service", "list"]);
      assert.notEqual(member.code, 0, "a member may not list the services");
      assert.match(member.stderr, /403|Forbidden|magnum-service:get_all/, explain(member));
    });

    it("coe cluster delete → gone from cluster list and from Heat; then coe cluster template delete", { timeout: 5 * 60_000 }, async () => {
      const out = await ok(["coe", "cluster", "delete", CLUSTER]);
      assert.match(out, new RegExp(`^Request to delete cluster ${CLUSTER} has been accepted\\.$`, "m"));
      const deadline = Date.now() + 120_000;
      let list: Array<{ uuid: string; status: string }> = [];
      while (Date.now() < deadline) {
        list = await okJson(["coe", "cluster", "list"]);
        if (!list.some((x) => x.uuid === clusterUuid)) break;
        await new Promise((r) => setTimeout(r, 2000));
      }
      assert.ok(!list.some((x) => x.uuid === clusterUuid), `still listed after 120 s: ${JSON.stringify(list)}`);
      const shown = await osc(["coe", "cluster", "show", CLUSTER]);
      assert.notEqual(shown.code, 0, explain(shown));
      assert.match(shown.stderr, /could not be found|404/, explain(shown));

      const demoStacks = await okJson(["stack", "list"], { cloud: "devcloud-demo" });
      assert.ok(!demoStacks.some((s: { ID: string }) => s.ID === stackId), `stack ${stackId} still in Heat: ${JSON.stringify(demoStacks)}`);

      const del = await ok(["coe", "cluster", "template", "delete", TPL]);
      assert.match(del, new RegExp(`^Request to delete cluster template ${TPL} has been accepted\\.$`, "m"));
      const templates = await okJson(["coe", "cluster", "template", "list"]);
      assert.ok(!templates.some((x: { uuid: string }) => x.uuid === tplUuid), JSON.stringify(templates));
    });
  });
}
