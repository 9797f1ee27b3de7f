// Batch provisioning end to end: `npm start` on the real dev cloud (keystone mode, as the demo
// user), a manifest of bays POSTed to /v1/batches; the worker's fan-out creates every bay (trusts
// made with the caller's token kept encrypted on the batch until the fan-out ends), Heat builds
// them, GET /v1/batches/{id} counts them complete. Applied again with the CLI
// (`bayforge apply -f --wait`): no new stack in Heat.
// The figure is 200 bays: BAYFORGE_TEST_BATCH_BAYS=200 (10 by default; ~20 minutes
// on the 2-core dev cloud, so not in CI).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import { api, ROOT, startBayforge, userToken, type BayforgeProcess } from "../support/bayforge-process.ts";
import { cloudsYamlPath } from "../support/devcloud.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import { openLocalStores } from "../../shared/adapters/local/index.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

/** the 200 bays with BAYFORGE_TEST_BATCH_BAYS=200 */
const BAYS = Number(process.env.BAYFORGE_TEST_BATCH_BAYS) || 10;
const TIMEOUT_MS = Math.max(5, BAYS / 6) * 60_000;
const RUN = `batch${Date.now().toString(36)}`;

let bf: BayforgeProcess;
let os: OpenStack;
let dir: string;
let batchId: string;

const manifest = {
  baymodels: [
    { name: `${RUN}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" },
  ],
  bays: Array.from({ length: BAYS }, (_, i) => ({ name: `${RUN}-${i}`, baymodel: `${RUN}-model`, node_count: 1, bay_create_timeout: 20 })),
};

async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const v = await f().catch((e) => ((last = e), undefined));
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${String(last ?? "")})`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith("OS_") || k.startsWith("BAYFORGE_")) delete base[k];
  const child = spawn(process.execPath, [join(ROOT, "bin/bayforge.mjs"), ...args], {
    cwd: dir,
    env: { ...base, OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-demo", BAYFORGE_URL: bf.url, BAYFORGE_WAIT_POLL_MS: "1000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

before(async () => {
  os = demoCloud();
  dir = mkdtempSync(join(tmpdir(), "bf-batch-"));
  writeFileSync(join(dir, "bays.yaml"), dump(manifest));
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "3,2,2,3,5" } });
});

after(async () => {
  if (bf) {
    for (const b of manifest.bays) await api(bf.url, "DELETE", `/v1/bays/${b.name}`).catch(() => {});
    await until("bays deleted", async () => ((await api(bf.url, "GET", "/v1/bays")).json?.bays ?? []).every((b: any) => !b.name.startsWith(RUN)) || undefined, 180_000).catch(() => {});
    await bf.kill("SIGTERM");
  }
  if (os) {
    await deleteStacks(os, RUN).catch(() => {});
    await os.close();
  }
});

describe(`batch apply of ${BAYS} bays on the real dev cloud (keystone, demo user)`, () => {
  it(`POST /v1/batches answers 202 at once, and every bay reaches CREATE_COMPLETE`, { timeout: TIMEOUT_MS + 60_000 }, async () => {
    const t0 = Date.now();
    const r = await fetch(`${bf.url}/v1/batches`, {
      method: "POST",
      headers: { "content-type": "application/yaml", "x-auth-token": await userToken() },
      body: dump(manifest),
    });
    const body = (await r.json()) as any;
    assert.equal(r.status, 202, JSON.stringify(body));
    batchId = body.uuid;
    const done = await until(
      `${BAYS} bays complete`,
      async () => {
        const g = await api(bf.url, "GET", `/v1/batches/${batchId}`);
        assert.equal(g.status, 200);
        if (g.json.summary.failed) throw new Error(`failed: ${JSON.stringify(g.json.bays.filter((b: any) => b.action === "failed" || String(b.status).endsWith("FAILED")))}`);
        return g.json.done ? g.json : undefined;
      },
      TIMEOUT_MS,
    );
    assert.equal(done.summary.complete, BAYS, JSON.stringify(done.summary));
    assert.equal(done.summary.create, BAYS);
    assert.ok(done.bays.every((b: any) => b.status === "CREATE_COMPLETE"));
    assert.equal((await stacksNamed(os, `${RUN}-`)).length, BAYS);
    // the caller's token was kept (encrypted) only for the fan-out
    const stores = openLocalStores(bf.dataDir);
    try {
      const rec = await stores.batches.getBatch(batchId);
      assert.equal(rec?.status, "applied");
      assert.equal(rec?.token_encrypted, null);
    } finally {
      await stores.close();
    }
  });

  it("applied again with `bayforge apply -f --wait`: nothing new, no new stack in Heat", { timeout: 120_000 }, async () => {
    const run = await cli(["apply", "-f", "bays.yaml", "--wait"]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`${BAYS} bays: 0 to create, 0 to scale, ${BAYS} unchanged, 0 pending; ${BAYS} complete, 0 in progress, 0 failed`));
    assert.equal((await stacksNamed(os, `${RUN}-`)).length, BAYS, "no new stacks");
  });

  it("a manifest with mistakes is refused by the CLI with every path, exit 1", async () => {
    writeFileSync(join(dir, "bad.yaml"), "bays:\n  - name: ok\n    baymodel: nope\n  - baymodel: x\n    node_count: 0\n");
    const run = await cli(["apply", "-f", "bad.yaml"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /bays\[0\]\.baymodel: baymodel 'nope'/);
    assert.match(run.stderr, /bays\[1\]: missing name/);
    assert.match(run.stderr, /bays\[1\]\.node_count/);
  });
});
