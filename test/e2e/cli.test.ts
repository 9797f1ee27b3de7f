// The `bayforge` CLI as a user runs it: `node bin/bayforge.mjs ...` in a child process,
// authenticated as the dev cloud's demo user from clouds.yaml (OS_CLOUD=devcloud-demo), against
// Bayforge run by `npm start` on the real dev cloud. Output is not a TTY here: `bay wait`
// prints one plain line per change.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, ROOT, startBayforge, userToken, type BayforgeProcess } from "../support/bayforge-process.ts";
import { cloudsYamlPath } from "../support/devcloud.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `cli${Date.now().toString(36)}`;
const MODEL = `${RUN}-model`;
const BROKEN_MODEL = `${RUN}-broken`;
const BAY = `${RUN}-bay`;
const BROKEN_BAY = `${RUN}-bad`;

let bf: BayforgeProcess;
let os: OpenStack;
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a user's environment: no token, the demo cloud from clouds.yaml. */
function cli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): Promise<Run> {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith("OS_") || k.startsWith("BAYFORGE_")) delete base[k];
  const child = spawn(process.execPath, [join(ROOT, "bin/bayforge.mjs"), ...args], {
    cwd: dir,
    env: { ...base, OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-demo", BAYFORGE_URL: bf?.url, BAYFORGE_WAIT_POLL_MS: "500", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(stdin ?? "");
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-cli-"));
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  const model = (name: string, image: string) =>
    `# a baymodel, Magnum mitaka fields\nname: ${name}\ncoe: kubernetes\nimage_id: ${image}\nkeypair_id: demo-key\nexternal_network_id: public\nflavor_id: m1.small\nmaster_flavor_id: m1.medium\ndocker_volume_size: 5\nlabels:\n  kube_tag: v1.30.1\n`;
  writeFileSync(join(dir, "model.yaml"), model(MODEL, "fedora-atomic"));
  writeFileSync(join(dir, "broken.yaml"), model(BROKEN_MODEL, "broken-image"));
});

after(async () => {
  if (bf) {
    for (const b of [BAY, BROKEN_BAY]) await api(bf.url, "DELETE", `/v1/bays/${b}`).catch(() => {});
    for (const b of [BAY, BROKEN_BAY]) await cli(["bay", "wait", b, "--timeout", "120"]).catch(() => {});
    for (const m of [MODEL, BROKEN_MODEL]) await api(bf.url, "DELETE", `/v1/baymodels/${m}`).catch(() => {});
    await bf.kill("SIGTERM");
  }
  if (os) {
    await deleteStacks(os, RUN).catch(() => {});
    await os.close();
  }
});

describe("the bayforge CLI against Bayforge on the dev cloud", () => {
  it("a usage error exits 2 with the usage text, before any request", async () => {
    for (const args of [["bay", "create", "x"], ["bay", "scale", "x", "zero"], ["bay", "frob"], ["bay", "list", "--nope"], []]) {
      const r = await cli(args, { BAYFORGE_URL: "http://127.0.0.1:9" });
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /usage: bayforge/, show(r));
      assert.equal(r.stdout, "");
    }
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /bay wait <name>/);
  });

  it("baymodel create -f model.yaml, then list and show it", async () => {
    const r = await cli(["baymodel", "create", "-f", "model.yaml"]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`name\\s+${MODEL}`));
    const list = await cli(["baymodel", "list", "--json"]);
    assert.equal(list.code, 0, show(list));
    assert.ok(JSON.parse(list.stdout).baymodels.some((m: { name: string }) => m.name === MODEL), list.stdout);
    const one = await cli(["--json", "baymodel", "show", MODEL]);
    assert.equal(one.code, 0, show(one));
    assert.deepEqual(JSON.parse(one.stdout).labels, { kube_tag: "v1.30.1" });
    // from stdin, for the broken image
    const broken = await cli(["baymodel", "create", "-f", "-", "--json"], {}, `{"name": "${BROKEN_MODEL}", "coe": "kubernetes", "image_id": "broken-image", "keypair_id": "demo-key", "external_network_id": "public", "flavor_id": "m1.small"}`);
    assert.equal(broken.code, 0, show(broken));
    assert.equal(JSON.parse(broken.stdout).image_id, "broken-image");
  });

  it("bay create, then bay wait prints plain progress lines and ends 0 on CREATE_COMPLETE", async () => {
    const c = await cli(["bay", "create", BAY, "--model", MODEL, "--nodes", "1", "--timeout", "10"]);
    assert.equal(c.code, 0, show(c));
    assert.match(c.stdout, /CREATE_IN_PROGRESS/);
    // the broken one meanwhile (it fails in ~15 s)
    const b = await cli(["bay", "create", BROKEN_BAY, "--model", BROKEN_MODEL, "--json"]);
    assert.equal(b.code, 0, show(b));
    assert.equal(JSON.parse(b.stdout).name, BROKEN_BAY);

    const w = await cli(["bay", "wait", BAY, "--timeout", "300"]);
    assert.equal(w.code, 0, show(w));
    assert.doesNotMatch(w.stdout, /[\r\x1b]/, "no spinner when stdout is not a TTY");
    const lines = w.stdout.trim().split("\n");
    assert.match(lines.at(-1)!, new RegExp(`^bay ${BAY}: CREATE_COMPLETE`));
    assert.ok(lines.length >= 2, show(w));
    assert.match(w.stdout, new RegExp(`^bay ${BAY}: CREATE_IN_PROGRESS  \\w+`, "m"), "status and latest event");
    assert.equal(new Set(lines).size, lines.length, "one line per change");
  });

  it("bay list --json includes it; bay list and bay show print it", async () => {
    const j = await cli(["bay", "list", "--json"]);
    assert.equal(j.code, 0, show(j));
    const bay = JSON.parse(j.stdout).bays.find((b: { name: string }) => b.name === BAY);
    assert.equal(bay?.status, "CREATE_COMPLETE", j.stdout);
    const t = await cli(["bay", "list"]);
    assert.match(t.stdout, /^UUID\s+NAME\s+STATUS/);
    assert.match(t.stdout, new RegExp(`${bay.uuid}\\s+${BAY}\\s+CREATE_COMPLETE`));
    const s = await cli(["bay", "show", BAY]);
    assert.equal(s.code, 0, show(s));
    assert.match(s.stdout, /^uuid\s+\S+$/m);
    assert.match(s.stdout, /^status\s+CREATE_COMPLETE$/m);
    assert.match(s.stdout, /^node_count\s+1$/m);
    // an explicit token works without any cloud configured
    const tok = await cli(["bay", "show", BAY, "--json", "--token", await userToken()], { OS_CLOUD: undefined, OS_CLIENT_CONFIG_FILE: undefined });
    assert.equal(tok.code, 0, show(tok));
    assert.equal(JSON.parse(tok.stdout).uuid, bay.uuid);
  });

  it("bay scale, then bay wait ends 0 on UPDATE_COMPLETE with the new size", async () => {
    const s = await cli(["bay", "scale", BAY, "2"]);
    assert.equal(s.code, 0, show(s));
    assert.match(s.stdout, /UPDATE_IN_PROGRESS/);
    const w = await cli(["bay", "wait", BAY, "--json"]);
    assert.equal(w.code, 0, show(w));
    const bay = JSON.parse(w.stdout); // --json: the final bay on stdout, progress on stderr
    assert.equal(bay.status, "UPDATE_COMPLETE");
    assert.equal(bay.node_count, 2);
    assert.match(w.stderr, /UPDATE_IN_PROGRESS/);
  });

  it("bay wait on a bay whose stack fails exits 1 printing Heat's reason", async () => {
    const w = await cli(["bay", "wait", BROKEN_BAY, "--timeout", "300"]);
    assert.equal(w.code, 1, show(w));
    const bay = (await api(bf.url, "GET", `/v1/bays/${BROKEN_BAY}`)).json;
    assert.equal(bay.status, "CREATE_FAILED");
    assert.match(bay.status_reason, /Test Resource failed boot/);
    assert.ok(w.stderr.includes(`bay ${BROKEN_BAY}: CREATE_FAILED: ${bay.status_reason}`), show(w));
  });

  it("bay delete, then bay wait exits 0 once the bay is gone; show is then Magnum's not-found", async () => {
    const d = await cli(["bay", "delete", BAY]);
    assert.equal(d.code, 0, show(d));
    const w = await cli(["bay", "wait", BAY, "--timeout", "300"]);
    assert.equal(w.code, 0, show(w));
    assert.match(w.stdout + w.stderr, new RegExp(`bay ${BAY}: (deleted|not found)`));
    assert.equal((await api(bf.url, "GET", `/v1/bays/${BAY}`)).status, 404);
  });

  it("an API error (unknown bay) exits 1 with the Magnum envelope's detail", async () => {
    const name = `${RUN}-nope`;
    const expected = (await api(bf.url, "GET", `/v1/bays/${name}`)).json.errors[0].detail;
    for (const args of [["bay", "show", name], ["bay", "scale", name, "3"], ["bay", "delete", name], ["--json", "bay", "show", name]]) {
      const r = await cli(args);
      assert.equal(r.code, 1, show(r));
      assert.ok(r.stderr.includes(expected), show(r));
      assert.equal(r.stdout, "");
    }
    // and a refused create: the field and the rule
    const bad = await cli(["bay", "create", `${RUN}-x`, "--model", `${RUN}-no-such-model`]);
    assert.equal(bad.code, 1, show(bad));
    assert.match(bad.stderr, /^bayforge: .+\(HTTP 4\d\d\)$/m);
  });

  it("no credentials and Bayforge unreachable are errors (1) that say so", async () => {
    const none = await cli(["bay", "list"], { OS_CLOUD: undefined, OS_CLIENT_CONFIG_FILE: undefined });
    assert.equal(none.code, 1, show(none));
    assert.match(none.stderr, /no credentials/);
    const down = await cli(["bay", "list", "--url", "http://127.0.0.1:9"], { BAYFORGE_TOKEN: "x" });
    assert.equal(down.code, 1, show(down));
    assert.match(down.stderr, /cannot reach Bayforge at http:\/\/127\.0\.0\.1:9/);
  });
});
