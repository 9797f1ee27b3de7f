// Bayforge's etcd v2 discovery endpoint (/v1/discovery/{token}) on the embedded SQLite store:
// (a) the protocol over HTTP, request by request as etcd 3.4's discovery client sends them
//     (etcdserver/api/v2discovery/discovery.go over client/keys.go);
// (b) the real peer: three Debian etcd 3.4 members bootstrap a cluster through it, and a
//     fourth one started against the full directory does not join.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Hono } from "hono";
import { DISCOVERY_PATH, discoveryRoutes, type DiscoveryDeps } from "../../functions/api/routes/discovery.ts";
import { MAX_CLUSTER_SIZE, newDiscoveryUrl } from "../../shared/bays/discovery-directory.ts";
import { EXTRA_REGISTRATIONS } from "../../shared/domain/etcd-discovery.ts";
import { listen, type Listening } from "../../functions/api/serve.ts";
import { openDatabase, openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { DiscoveryDirectoryExists } from "../../shared/ports/discovery-store.ts";
import { silentLogger } from "../../shared/observability/logger.ts";
import { repoRoot } from "../support/devcloud.ts";
import { discoveryStoreContract } from "../support/discovery-store-contract.ts";
import { readAnswer } from "../support/http-answer.ts";

const dirs: string[] = [];
function tempDir(prefix = "bf-discovery-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  method: string;
  /** path and query, the token replaced by TOKEN */
  url: string;
  status: number;
  /** answered with no body (a wait that timed out) */
  empty: boolean;
}
interface Served {
  url: string;
  stores: LocalStores;
  /** every request answered, in order */
  seen: Seen[];
  /** every request that reached the route, in order (path and query, the token replaced) */
  arrived: string[];
  close(): Promise<void>;
}

/** The route mounted where the API mounts it, on its own SQLite file, served on 127.0.0.1. */
async function serveDiscovery(options: Partial<DiscoveryDeps> = {}): Promise<Served> {
  const stores = openLocalStores(tempDir());
  const app = new Hono();
  const seen: Seen[] = [];
  const arrived: string[] = [];
  app.use(async (c, next) => {
    const u = new URL(c.req.url);
    const url = (u.pathname + u.search).replace(/[0-9a-f]{32}/, "TOKEN");
    arrived.push(url);
    await next();
    seen.push({
      method: c.req.method,
      url,
      status: c.res.status,
      empty: c.res.body === null,
    });
  });
  app.route(DISCOVERY_PATH, discoveryRoutes({ discovery: stores.discovery, log: silentLogger, ...options }));
  const server: Listening = await listen(app, 0);
  return {
    url: server.url,
    stores,
    seen,
    arrived,
    async close() {
      await server.close();
      await stores.close();
    },
  };
}

async function call(url: string, init: RequestInit = {}) {
  return readAnswer(await fetch(url, init), (text) => text);
}

/** PUT as etcd's createSelf: prevExist=false, form body `value=...`. */
const register = (dirUrl: string, id: string, value: string, query = "?prevExist=false") =>
  call(`${dirUrl}/${id}${query}`, {
    method: "PUT",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ value }).toString(),
  });

const tokenOf = (dirUrl: string) => new URL(dirUrl).pathname.split("/").pop()!;

/**
 * Until the `n`th request ending in `query` has reached the route. The route reads the store
 * synchronously before it holds a wait, so a request sent after this sees the wait held.
 */
const heldAt = (srv: Served, query: string, n = 1) =>
  until(`request ${n} for ${query} to arrive`, 30_000, async () => (srv.arrived.filter((u) => u.endsWith(query)).length >= n ? true : undefined));

// ================================================================ (a) the protocol

describe("etcd discovery protocol (HTTP, SQLite)", () => {
  let srv: Served;
  before(async () => {
    srv = await serveDiscovery({ waitTimeoutMs: 400, pollIntervalMs: 20 });
  });
  after(async () => {
    await srv.close();
  });
  const newDir = (size = 3) => newDiscoveryUrl({ discovery: srv.stores.discovery }, `${srv.url}/`, size);

  it("newDiscoveryUrl makes a directory under /v1/discovery with a 128-bit hex token", async () => {
    const a = await newDir();
    const b = await newDir();
    assert.match(a, new RegExp(`^${srv.url}/v1/discovery/[0-9a-f]{32}$`));
    assert.notEqual(a, b);
    const dir = await srv.stores.discovery.getDirectory(tokenOf(a));
    assert.equal(dir?.size, 3);
    assert.equal(dir?.index, 1);
    for (const bad of [0, -1, 1.5, MAX_CLUSTER_SIZE + 1, Number.NaN])
      await assert.rejects(newDir(bad), RangeError, `size ${bad}`);
    await assert.rejects(srv.stores.discovery.createDirectory(tokenOf(a), 3, new Date()), DiscoveryDirectoryExists);
  });

  it("GET _config/size: the size as an etcd v2 keys answer with X-Etcd-Index", async () => {
    const url = await newDir(5);
    const token = tokenOf(url);
    const r = await call(`${url}/_config/size?quorum=false&recursive=false&sorted=false`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(r.headers.get("x-etcd-index"), "1");
    assert.deepEqual(r.json, {
      action: "get",
      node: { key: `/_etcd/registry/${token}/_config/size`, value: "5", modifiedIndex: 1, createdIndex: 1 },
    });
  });

  it("unknown directories and keys are etcd's 404 errorCode 100", async () => {
    const missing = `${srv.url}/v1/discovery/${"0".repeat(32)}`;
    for (const u of [`${missing}/_config/size`, missing, `${srv.url}/v1/discovery/not-a-token/_config/size`]) {
      const r = await call(u);
      assert.equal(r.status, 404, u);
      assert.equal(r.json.errorCode, 100);
      assert.equal(r.json.message, "Key not found");
      assert.equal(typeof r.json.index, "number");
      assert.ok(r.headers.get("x-etcd-index"));
    }
    const url = await newDir();
    const r = await call(`${url}/abc`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { errorCode: 100, message: "Key not found", cause: `/_etcd/registry/${tokenOf(url)}/abc`, index: 1 });
  });

  it("PUT ?prevExist=false registers a member once: 201 create, then 412 errorCode 105", async () => {
    const url = await newDir();
    const token = tokenOf(url);
    const r = await register(url, "8e9e05c52164694d", "m1=http://127.0.0.1:2380");
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("x-etcd-index"), "2");
    assert.deepEqual(r.json, {
      action: "create",
      node: { key: `/_etcd/registry/${token}/8e9e05c52164694d`, value: "m1=http://127.0.0.1:2380", modifiedIndex: 2, createdIndex: 2 },
    });
    const again = await register(url, "8e9e05c52164694d", "m1=http://127.0.0.1:9999");
    assert.equal(again.status, 412);
    assert.deepEqual(again.json, {
      errorCode: 105,
      message: "Key already exists",
      cause: `/_etcd/registry/${token}/8e9e05c52164694d`,
      index: 2,
    });
    // unchanged
    const get = await call(`${url}/8e9e05c52164694d`);
    assert.equal(get.json.node.value, "m1=http://127.0.0.1:2380");
  });

  it("GET the directory (as checkCluster: recursive=false): _config dir and members, X-Etcd-Index", async () => {
    const url = await newDir();
    const token = tokenOf(url);
    await register(url, "b", "m2=http://127.0.0.1:2382");
    await register(url, "a", "m1=http://127.0.0.1:2381");
    const r = await call(`${url}?quorum=false&recursive=false&sorted=false`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("x-etcd-index"), "3");
    assert.deepEqual(r.json, {
      action: "get",
      node: {
        key: `/_etcd/registry/${token}`,
        dir: true,
        nodes: [
          { key: `/_etcd/registry/${token}/_config`, dir: true, modifiedIndex: 1, createdIndex: 1 },
          { key: `/_etcd/registry/${token}/b`, value: "m2=http://127.0.0.1:2382", modifiedIndex: 2, createdIndex: 2 },
          { key: `/_etcd/registry/${token}/a`, value: "m1=http://127.0.0.1:2381", modifiedIndex: 3, createdIndex: 3 },
        ],
        modifiedIndex: 1,
        createdIndex: 1,
      },
    });
    // recursive + sorted (by key, as etcd): _config expanded
    const rs = await call(`${url}?recursive=true&sorted=true`);
    assert.deepEqual(
      rs.json.node.nodes.map((n: any) => n.key.split("/").pop()),
      ["_config", "a", "b"],
    );
    assert.deepEqual(rs.json.node.nodes[0].nodes, [
      { key: `/_etcd/registry/${token}/_config/size`, value: "3", modifiedIndex: 1, createdIndex: 1 },
    ]);
  });

  it("wait on the member's own key at its createdIndex answers at once (createSelf)", async () => {
    const url = await newDir();
    const put = await register(url, "1f", "m=http://127.0.0.1:2380");
    const idx = put.json.node.createdIndex;
    // nothing changes after the PUT: a "create" can only come from the history, not a timed-out wait
    const r = await call(`${url}/1f?recursive=false&wait=true&waitIndex=${idx}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.action, "create");
    assert.equal(r.json.node.key.split("/").pop(), "1f");
    assert.equal(r.json.node.modifiedIndex, idx);
  });

  it("a recursive wait is held until a member registers, and answers that create", async () => {
    // its own server, whose waits outlast any delay of a loaded machine
    const own = await serveDiscovery({ waitTimeoutMs: 60_000, pollIntervalMs: 20 });
    try {
      const url = await newDiscoveryUrl({ discovery: own.stores.discovery }, `${own.url}/`, 3);
      await register(url, "a1", "m1=http://127.0.0.1:2381");
      const listing = await call(url);
      const index = Number(listing.headers.get("x-etcd-index"));
      const waitUrl = `?recursive=true&wait=true&waitIndex=${index + 1}`;
      let answered = false;
      const waiting = call(`${url}${waitUrl}`).finally(() => (answered = true));
      await heldAt(own, waitUrl);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(answered, false, "held: nothing to answer yet");
      await register(url, "b2", "m2=http://127.0.0.1:2382");
      const r = await waiting;
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-etcd-index"), String(index), "the index the watch started at");
      assert.deepEqual(r.json, {
        action: "create",
        node: { key: `/_etcd/registry/${tokenOf(url)}/b2`, value: "m2=http://127.0.0.1:2382", modifiedIndex: index + 1, createdIndex: index + 1 },
      });
      // an older waitIndex answers from the history; 1 is the size key ("set")
      const old = await call(`${url}?recursive=true&wait=true&waitIndex=1`);
      assert.equal(old.json.action, "set");
      assert.equal(old.json.node.key.split("/").pop(), "size");
      // no waitIndex: the next change after now
      const next = call(`${url}?recursive=true&wait=true`);
      await heldAt(own, "?recursive=true&wait=true");
      await register(url, "c3", "m3=http://127.0.0.1:2383");
      assert.equal((await next).json.node.key.split("/").pop(), "c3");
    } finally {
      await own.close();
    }
  });

  it("a wait with nothing to answer ends with an empty 200 (the client asks again)", async () => {
    const url = await newDir();
    const t0 = Date.now();
    const r = await call(`${url}?recursive=true&wait=true&waitIndex=2`);
    const took = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(r.text, "");
    assert.equal(r.headers.get("x-etcd-index"), "1");
    // held for the server's wait timeout (400 ms), not answered empty at once; no upper bound:
    // a loaded machine may answer late
    assert.ok(took >= 350, `held ${took} ms`);
    // a non-recursive wait on the directory never sees member creates
    const nr = call(`${url}?wait=true&waitIndex=2`);
    await register(url, "d4", "m=http://127.0.0.1:2380");
    assert.equal((await nr).text, "");
  });

  it("refuses what the client never sends, in etcd's error format", async () => {
    const url = await newDir();
    const cases: [Promise<Awaited<ReturnType<typeof call>>>, number, number][] = [
      [register(url, "_config/size", "9"), 400, 106],
      [register(url, "_config", "9"), 400, 106],
      [register(url, "NOT-HEX", "m=http://x"), 400, 209],
      [register(url, "12345678901234567", "m=http://x"), 400, 209],
      [register(url, "a/b", "m=http://x"), 400, 209],
      [register(url, "ab", "m=http://x", "?prevExist=true"), 400, 209],
      [register(url, "ab", ""), 400, 200],
      [register(url, "ab", "x".repeat(5000)), 400, 209],
      [call(`${url}/ab?prevExist=false`, { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" }), 400, 210],
      [
        call(`${url}/ab?prevExist=false`, {
          method: "PUT",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `value=${"x".repeat(20_000)}`,
        }),
        413,
        210,
      ],
      [call(`${url}?wait=true&waitIndex=abc`), 400, 203],
      [call(`${url}?recursive=maybe`), 400, 209],
    ];
    for (const [pending, status, code] of cases) {
      const r = await pending;
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.errorCode, code, r.text);
      assert.equal(typeof r.json.message, "string");
    }
    const del = await call(url, { method: "DELETE" });
    assert.equal(del.status, 405);
    assert.equal((await srv.stores.discovery.listMembers(tokenOf(url)))?.members.length, 0, "nothing registered");
  });

  it(`accepts at most size + ${EXTRA_REGISTRATIONS} registrations (errorCode 103 after)`, async () => {
    const url = await newDir(1);
    for (let i = 1; i <= 1 + EXTRA_REGISTRATIONS; i++) {
      const r = await register(url, i.toString(16), `m${i}=http://127.0.0.1:${2000 + i}`);
      assert.equal(r.status, 201, r.text);
    }
    const r = await register(url, "ff", "late=http://127.0.0.1:3000");
    assert.equal(r.status, 400);
    assert.equal(r.json.errorCode, 103);
    assert.equal(r.json.index, 2 + EXTRA_REGISTRATIONS);
  });
});

describe("etcd discovery: held requests", () => {
  it("are capped per process (503, which the client retries with backoff) and freed when the client leaves", async () => {
    const srv = await serveDiscovery({ waitTimeoutMs: 10_000, pollIntervalMs: 20, maxWaiters: 1 });
    try {
      const url = await newDiscoveryUrl({ discovery: srv.stores.discovery }, srv.url, 3);
      const gone = new AbortController();
      const held = "?recursive=true&wait=true&waitIndex=2";
      const first = fetch(`${url}${held}`, { signal: gone.signal }).catch((e) => e);
      await heldAt(srv, held);
      const second = await call(`${url}${held}`);
      assert.equal(second.status, 503);
      assert.equal(second.json.errorCode, 300);
      // an answer that is ready is not a held request
      assert.equal((await call(`${url}?recursive=true&wait=true&waitIndex=1`)).status, 200);
      gone.abort();
      await first;
      // the server has let the aborted wait go once it has answered it (to nobody)
      await until("the aborted wait to end", 30_000, async () => (srv.seen.filter((r) => r.url.endsWith(held)).length === 2 ? true : undefined));
      const third = call(`${url}${held}`);
      await heldAt(srv, held, 3);
      await register(url, "a", "m=http://127.0.0.1:2380");
      assert.equal((await third).status, 200, "the aborted request's slot was freed");
    } finally {
      await srv.close();
    }
  });
});

// What every DiscoveryStore must do (test/support/discovery-store-contract.ts; the DynamoDB
// adapter runs the same suite): `other` is a second connection to the same file.
discoveryStoreContract("SQLite (local)", async () => {
  const dir = tempDir();
  const a = openLocalStores(dir);
  const b = openLocalStores(dir);
  return {
    discovery: a.discovery,
    other: b.discovery,
    async close() {
      await a.close();
      await b.close();
    },
  };
});

describe("etcd discovery store (SQLite)", () => {
  it("an existing file at schema 1 gains the discovery tables", async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    // back to what schema 1 had: no discovery tables, nor those of later migrations
    db.exec("DROP TABLE discovery_members; DROP TABLE discovery_dirs; DROP INDEX baymodels_by_name;");
    for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'batch%' OR name IN ('quotas', 'services', 'chatops_mappings'))").all() as Array<{ name: string }>) db.exec(`DROP TABLE ${t.name}`);
    db.pragma("user_version = 1");
    db.close();
    const stores = openLocalStores(dir);
    try {
      await stores.discovery.createDirectory("ef".repeat(16), 1, new Date());
      assert.equal((await stores.discovery.getDirectory("ef".repeat(16)))?.size, 1);
    } finally {
      await stores.close();
    }
  });
});

// ================================================================ (b) the real peer

/** Ports the kernel just handed out and released; the etcd members bind them right after. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  logFile: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

/** unref: a timer that only bounds a race must not keep the test process alive */
const sleep = (ms: number, { unref = false } = {}) =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    if (unref) t.unref();
  });

/** Thrown by a probe: stop waiting at once (a member died), unlike other errors. */
class GiveUp extends Error {}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

const runEtcdctl = (endpoints: string[], args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "etcdctl",
      [`--endpoints=${endpoints.join(",")}`, "--dial-timeout=3s", "--command-timeout=5s", ...args],
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

/** `etcdctl member list` (simple: ids in hex, as the discovery keys). */
async function memberList(endpoints: string[]) {
  const r = await runEtcdctl(endpoints, ["member", "list"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [id, status, name, peerUrls, clientUrls] = line.split(", ");
      return { id, status, name, peerUrls, clientUrls };
    });
}

describe("etcd discovery: three real etcd 3.4 members bootstrap through Bayforge", () => {
  let srv: Served;
  let work: string;
  const members: Member[] = [];

  async function startMember(name: string, discoveryUrl: string, extra: string[] = []): Promise<Member> {
    const [client, peer] = await freePorts(2);
    const clientUrl = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const logFile = join(work, `${name}.log`);
    const out = createWriteStream(logFile);
    const proc = spawn(
      "etcd",
      [
        `--name=${name}`,
        `--data-dir=${join(work, name)}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--discovery=${discoveryUrl}`,
        "--logger=zap",
        "--log-outputs=stderr",
        ...extra,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    proc.stdout!.pipe(out, { end: false });
    proc.stderr!.pipe(out, { end: false });
    // "close", not "exit": by then its output has all been read, and the log file is complete
    const exited = new Promise<number | null>((resolve) => {
      proc.once("close", (code) => out.end(() => resolve(code)));
      proc.once("error", (err) => {
        out.write(`spawn failed: ${err.message}\n`);
        resolve(null);
      });
    });
    const m = { name, clientUrl, peerUrl, logFile, proc, exited };
    members.push(m);
    // should the runner die before after() runs, the members still go (by pid)
    process.once("exit", () => proc.exitCode === null && proc.signalCode === null && proc.kill("SIGKILL"));
    return m;
  }
  const logOf = (m: Member) => readFileSync(m.logFile, "utf8");
  const healthy = async (m: Member) => {
    const r = await call(`${m.clientUrl}/health`);
    return r.status === 200 && r.json?.health === "true" ? true : undefined;
  };

  before(async () => {
    execFileSync("bash", [join(repoRoot, "scripts", "etcd", "ensure-etcd.sh")], { stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
    work = tempDir("bf-etcd-");
    // holds shorter than the members' start interval: they also go through etcd's
    // "empty answer, ask again" path
    srv = await serveDiscovery({ waitTimeoutMs: 400, pollIntervalMs: 100 });
  });
  after(async () => {
    // By pid, whatever the tests did. SIGKILL: their data is thrown away, and a leader that
    // gets SIGTERM while its followers stop too spends seconds trying to hand over leadership.
    for (const m of members) if (m.proc.exitCode === null && m.proc.signalCode === null) m.proc.kill("SIGKILL");
    await Promise.all(members.map((m) => m.exited));
    await srv?.close();
  });

  let url: string;
  let cluster: Member[];

  it("forms a 3-member cluster from a size-3 discovery URL", async () => {
    url = await newDiscoveryUrl({ discovery: srv.stores.discovery }, srv.url, 3);
    // staggered, so that the first ones wait for the others through the long poll
    cluster = [];
    for (const name of ["m1", "m2", "m3"]) {
      cluster.push(await startMember(name, url));
      await sleep(700);
    }
    for (const m of cluster)
      await until(`${m.name} healthy (log: ${m.logFile})`, 60_000, async () => {
        if (m.proc.exitCode !== null) throw new GiveUp(`${m.name} exited ${m.proc.exitCode}:\n${logOf(m).slice(-3000)}`);
        return healthy(m);
      });

    // the cluster the members formed: exactly these three, with the URLs they advertised
    // (etcd 3.4 serves no v2 API by default: ask over v3 with etcdctl)
    const endpoints = cluster.map((m) => m.clientUrl);
    const formed = await memberList(endpoints);
    assert.deepEqual(formed.map((m) => m.name).sort(), ["m1", "m2", "m3"]);
    for (const m of cluster) {
      const f = formed.find((x) => x.name === m.name)!;
      assert.equal(f.peerUrls, m.peerUrl);
      assert.equal(f.clientUrls, m.clientUrl);
    }
    const health = await runEtcdctl(endpoints, ["endpoint", "health"]);
    assert.equal(health.code, 0, health.stderr + health.stdout);
    assert.equal((health.stdout + health.stderr).match(/is healthy/g)?.length, 3, health.stdout + health.stderr);
    // a quorum write through one member is read back through another
    assert.equal((await runEtcdctl([endpoints[0]], ["put", "bayforge", "discovered"])).code, 0);
    const got = await runEtcdctl([endpoints[2]], ["get", "bayforge", "--print-value-only"]);
    assert.equal(got.stdout.trim(), "discovered");

    // the directory: the three registrations under the members' ids, values name=peer url
    const dir = await call(`${url}?recursive=false`);
    const registered = dir.json.node.nodes.filter((n: any) => !n.dir);
    assert.deepEqual(
      registered.map((n: any) => `${n.key.split("/").pop()} ${n.value}`).sort(),
      formed.map((m) => `${m.id} ${m.name}=${m.peerUrls}`).sort(),
    );
    for (const m of cluster) assert.match(logOf(m), /found all needed peers from discovery server/);

    // what etcd's client sent: no request failed, each member registered once with
    // prevExist=false, and a wait that ended empty was asked again with the same waitIndex
    const seen = srv.seen.map((x) => `${x.method} ${x.url} ${x.status}${x.empty ? " empty" : ""}`);
    assert.deepEqual(srv.seen.filter((x) => x.status >= 300), [], seen.join("\n"));
    const puts = srv.seen.filter((x) => x.method === "PUT");
    assert.equal(puts.length, 3, seen.join("\n"));
    for (const x of puts) assert.match(x.url, /^\/v1\/discovery\/TOKEN\/[0-9a-f]{1,16}\?prevExist=false$/);
    const emptyWait = srv.seen.findIndex((x) => x.empty && /[?&]wait=true/.test(x.url) && /recursive=true/.test(x.url));
    assert.ok(emptyWait >= 0, `no wait timed out:\n${seen.join("\n")}`);
    const waitIndex = /waitIndex=(\d+)/.exec(srv.seen[emptyWait].url)![1];
    assert.ok(
      srv.seen.slice(emptyWait + 1).some((x) => x.url.includes(`wait=true`) && x.url.includes(`waitIndex=${waitIndex}`)),
      seen.join("\n"),
    );
  });

  it("a fourth member on the full URL does not join: it falls back to a proxy (etcd's default)", async (t) => {
    if (!cluster) return t.skip("the cluster did not form");
    const fourth = await startMember("m4", url);
    await until(`m4 falls back to proxy (log: ${fourth.logFile})`, 30_000, async () =>
      /discovery cluster is full, falling back to proxy/.test(logOf(fourth)) ? true : undefined,
    );
    // still running, as a v2 proxy to the three members, not as a raft member
    await until("m4's proxy listening", 15_000, async () =>
      /v2 proxy started listening on client requests/.test(logOf(fourth)) ? true : undefined,
    );
    assert.equal((await call(`${fourth.clientUrl}/version`)).status, 200);
    assert.equal(fourth.proc.exitCode, null);
    assert.deepEqual((await memberList(cluster.map((m) => m.clientUrl))).map((m) => m.name).sort(), ["m1", "m2", "m3"]);
    // it never registered: checkCluster saw the directory full before createSelf
    const dir = await call(url);
    assert.equal(dir.json.node.nodes.filter((n: any) => !n.dir).length, 3);
  });

  it("with --discovery-fallback=exit it exits 1 with \"discovery: cluster is full\"", async (t) => {
    if (!cluster) return t.skip("the cluster did not form");
    const fifth = await startMember("m5", url, ["--discovery-fallback=exit"]);
    const code = await Promise.race([fifth.exited, sleep(30_000, { unref: true }).then(() => "still running")]);
    assert.equal(code, 1, logOf(fifth).slice(-3000));
    assert.match(logOf(fifth), /discovery: cluster is full/);
    const dir = await call(url);
    assert.equal(dir.json.node.nodes.filter((n: any) => !n.dir).length, 3);
  });
});
