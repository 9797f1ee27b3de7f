// Oversized requests are answered readably: clients that write their whole body before they
// read (Node's http.request, a raw socket, Python's urllib and requests, curl) read the 413 or
// 431 and its JSON on every try, from every endpoint of the local server as `npm start` runs it
// (the API, batch manifests, the etcd discovery directory, the chat-ops webhook). The server
// reads and discards what follows the answer (a lingering close, functions/api/lingering-close.ts)
// within its bounds in bytes and time, and serves nothing pipelined behind a refused body.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { startEmbedded, type Embedded } from "../../infra/local/embedded.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { listen, type Listening } from "../../functions/api/serve.ts";
import { createLingeringServer } from "../../functions/api/lingering-close.ts";

const MB5 = 5 * 1024 * 1024;
const TRIES = 3;
const BAY_LIMIT = 64 * 1024;
const MANIFEST_LIMIT = 1024 * 1024;

let bf: Embedded;
let dataDir: string;

const apiLimit = (limit: number) => (j: any) => j.errors[0].status === 413 && j.errors[0].detail.includes(`limit of ${limit} bytes`);
const DIRECTORY = "/v1/discovery/0123456789abcdef0123456789abcdef/abc";
/**
 * Every local endpoint with a body limit, a body over it, and what the 413 says. The API's own
 * 64 KiB limit is checked before the routes' (the discovery directory's 8 KiB, the webhook's
 * 64 KiB): a 5 MB body is refused by it, in the API's envelope, on every path.
 */
const endpoints = () => [
  { name: "POST /v1/bays", method: "POST", path: "/v1/bays", type: "application/json", body: Buffer.from(JSON.stringify({ name: "big", baymodel_id: "m", discovery_url: "x".repeat(MB5) })), says: apiLimit(BAY_LIMIT) },
  { name: "POST /v1/batches", method: "POST", path: "/v1/batches", type: "application/yaml", body: Buffer.from(`bays:\n${"  - {name: b, baymodel: m}\n".repeat(MB5 / 26)}`), says: apiLimit(MANIFEST_LIMIT) },
  { name: "PUT /v1/discovery/… (5 MB)", method: "PUT", path: DIRECTORY, type: "application/x-www-form-urlencoded", body: Buffer.from(`value=${"x".repeat(MB5)}`), says: apiLimit(BAY_LIMIT) },
  { name: "PUT /v1/discovery/… (60 KB)", method: "PUT", path: DIRECTORY, type: "application/x-www-form-urlencoded", body: Buffer.from(`value=${"x".repeat(60_000)}`), says: (j: any) => j.errorCode === 210 && /exceeds 8192 bytes/.test(j.cause) },
  { name: "POST /webhook/slack", method: "POST", path: "/webhook/slack", type: "application/x-www-form-urlencoded", body: Buffer.from(`text=${"x".repeat(MB5)}`), says: apiLimit(BAY_LIMIT) },
];

interface Raw {
  status: number;
  head: string;
  body: string;
}

/** Writes `parts` on a raw socket, reading nothing until the last byte is written; then reads the answer to its end. */
function rawExchange(port: number, parts: Array<string | Buffer>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    sock.pause();
    const chunks: Buffer[] = [];
    sock.on("error", (e) => reject(new Error(`raw client: ${(e as NodeJS.ErrnoException).code} after ${Buffer.concat(chunks).length} bytes read`)));
    for (const p of parts.slice(0, -1)) sock.write(p);
    sock.write(parts[parts.length - 1], (err) => {
      if (err) return;
      sock.on("data", (c: Buffer) => chunks.push(c));
      sock.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const at = text.indexOf("\r\n\r\n");
        sock.end();
        resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, at).toLowerCase(), body: text.slice(at + 4) });
      });
      sock.resume();
    });
  });
}

const requestHead = (method: string, path: string, type: string, length: number, extra = "") =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n${extra}\r\n`;

/** Node's http.request writing the whole body, and only once it is all written, reading the answer. */
function nodeWriteThenRead(url: string, method: string, type: string, body: Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { "content-type": type, "content-length": body.length } });
    const answer = new Promise<http.IncomingMessage>((r) => req.once("response", (res) => (res.pause(), r(res))));
    req.on("error", (e) => reject(new Error(`node client: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    req.end(body, async () => {
      const res = await answer;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      res.resume();
    });
  });
}

/** A client program, run without blocking this process (the server under test is in it). */
function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "bf-oversized-"));
  bf = await startEmbedded(
    { api: true, worker: false },
    { BAYFORGE_DATA_DIR: dataDir, PORT: "0", BAYFORGE_AUTH: "noauth", BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5", BAYFORGE_CHATOPS_PROJECTS: JSON.stringify({ "slack:T1": "p" }) },
    createLogger({}, "error", () => {}),
  );
});
after(async () => {
  await bf?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a client that writes its whole body before it reads gets the answer", () => {
  it("Node's http.request, 5 MB: the 413 and its JSON, from every endpoint, every time", async () => {
    for (const e of endpoints())
      for (let i = 0; i < TRIES; i++) {
        const r = await nodeWriteThenRead(bf.url + e.path, e.method, e.type, e.body);
        assert.equal(r.status, 413, e.name);
        assert.ok(e.says(r.json), `${e.name}: ${JSON.stringify(r.json)}`);
      }
  });

  it("a raw socket that reads nothing until all is written: 413 with `Connection: close` and the JSON, with a length or chunked", async () => {
    const port = Number(new URL(bf.url!).port);
    for (const e of endpoints())
      for (let i = 0; i < TRIES; i++) {
        const r = await rawExchange(port, [requestHead(e.method, e.path, e.type, e.body.length), e.body]);
        assert.equal(r.status, 413, `${e.name}: ${r.head}`);
        assert.match(r.head, /\r\nconnection: close(\r\n|$)/, e.name);
        assert.ok(e.says(JSON.parse(r.body)), `${e.name}: ${r.body}`);
      }
    // no length: the server can only tell once the limit is passed, mid-upload
    const chunk = Buffer.from(`10000\r\n${"y".repeat(0x10000)}\r\n`);
    for (let i = 0; i < TRIES; i++) {
      const r = await rawExchange(port, [`POST /v1/bays HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, ...Array(80).fill(chunk), "0\r\n\r\n"]);
      assert.equal(r.status, 413, r.head);
      assert.match(JSON.parse(r.body).errors[0].detail, new RegExp(`limit of ${BAY_LIMIT} bytes`));
    }
  });

  it("headers over Node's 16 KiB, then a 5 MB body: 431 in the API's error envelope", async () => {
    const port = Number(new URL(bf.url!).port);
    for (let i = 0; i < TRIES; i++) {
      const r = await rawExchange(port, [requestHead("POST", "/v1/bays", "application/json", MB5, `X-Padding: ${"p".repeat(100_000)}\r\n`), Buffer.alloc(MB5, 120)]);
      assert.equal(r.status, 431, r.head);
      assert.match(r.head, /\r\nconnection: close(\r\n|$)/);
      const err = JSON.parse(r.body).errors[0];
      assert.equal(err.status, 431);
      assert.match(err.detail, /limit of 16384 bytes/);
    }
  });

  // Python's clients write the whole body before they read the answer
  const pythonClient = (client: "urllib" | "requests") => `
import json, sys, urllib.request, urllib.error
url, path, tries = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = open(path, "rb").read()
out = []
for _ in range(tries):
    try:
        if ${JSON.stringify(client)} == "urllib":
            try:
                urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"content-type": "application/json"}), timeout=30)
                out.append({"status": 200})
            except urllib.error.HTTPError as e:
                out.append({"status": e.code, "json": json.loads(e.read())})
        else:
            import requests
            r = requests.post(url, data=body, headers={"content-type": "application/json"}, timeout=30)
            out.append({"status": r.status_code, "json": r.json()})
    except Exception as e:
        out.append({"error": repr(e)})
print(json.dumps(out))
`;
  const bigFile = () => {
    const file = join(dataDir, "big.json");
    writeFileSync(file, endpoints()[0].body);
    return file;
  };
  const assertPython413 = async (client: "urllib" | "requests") => {
    const answers = JSON.parse((await run("python3", ["-c", pythonClient(client), `${bf.url}/v1/bays`, bigFile(), String(TRIES)])).stdout) as Array<{ status?: number; json?: any; error?: string }>;
    assert.equal(answers.length, TRIES);
    for (const a of answers) {
      assert.equal(a.status, 413, `${client}: ${a.error ?? JSON.stringify(a.json)}`);
      assert.match(a.json.errors[0].detail, new RegExp(`limit of ${BAY_LIMIT} bytes`));
    }
  };

  it("Python's urllib: the 413 and its JSON", () => assertPython413("urllib"));

  it(
    "Python's requests: the 413 and its JSON",
    { skip: spawnSync("python3", ["-c", "import requests"]).status !== 0 && "waits for python3-requests (installed with the dev cloud's packages)" },
    () => assertPython413("requests"),
  );

  it("curl with a file, with and without Expect: 100-continue: the 413 and its JSON", async () => {
    const file = bigFile();
    // curl sends `Expect: 100-continue` for a large file unless told not to: both ways
    for (const expect of [[], ["-H", "Expect:"]])
      for (let i = 0; i < TRIES; i++) {
        const c = await run("curl", ["-sS", "-o", "-", "-w", "\n%{http_code}", "-H", "content-type: application/json", ...expect, "--data-binary", `@${file}`, `${bf.url}/v1/bays`]);
        assert.equal(c.status, 0, c.stderr);
        const [json, code] = [c.stdout.slice(0, c.stdout.lastIndexOf("\n")), c.stdout.slice(c.stdout.lastIndexOf("\n") + 1)];
        assert.equal(code, "413", c.stdout.slice(0, 300));
        assert.match(JSON.parse(json).errors[0].detail, new RegExp(`limit of ${BAY_LIMIT} bytes`));
      }
  });

  it("a request pipelined behind a refused body is not run (nothing written) nor answered; the next connection is served", async () => {
    const port = Number(new URL(bf.url!).port);
    const body = Buffer.alloc(200_000, 120);
    const model = JSON.stringify({ name: "pipelined", coe: "kubernetes", image_id: "i", keypair_id: "k", external_network_id: "public" });
    const r = await rawExchange(port, [requestHead("POST", "/v1/bays", "application/json", body.length), body, requestHead("POST", "/v1/baymodels", "application/json", model.length) + model]);
    assert.equal(r.status, 413);
    assert.equal(r.body.match(/HTTP\/1\.1 /g), null, `one answer only: ${r.body}`);
    await new Promise((res) => setTimeout(res, 300)); // the server has long read the pipelined request by then
    assert.deepEqual(await bf.stores.table.listBayModels({}), []);
    const next = await fetch(`${bf.url}/v1/baymodels`);
    assert.equal(next.status, 200);
    assert.deepEqual(((await next.json()) as { baymodels: unknown[] }).baymodels, []);
  });
});

describe("the lingering close's bounds", () => {
  let server: Listening;
  let port: number;
  const LINGER = { maxBytes: 256 * 1024, maxMs: 2500, idleMs: 800 };

  before(async () => {
    const app = new Hono();
    app.use(bodyLimit({ maxSize: 1024, onError: (c) => c.json({ error: "too large" }, 413) }));
    app.post("/", async (c) => c.json({ n: (await c.req.text()).length }));
    server = await listen(app, 0, "127.0.0.1", LINGER);
    port = Number(new URL(server.url).port);
  });
  after(() => server.close());

  /** Opens a refused upload (a 10 MB length, `first` bytes sent), reads the 413 and its FIN; resolves with the socket still open for writing. */
  async function refusedUpload(first: number): Promise<{ sock: Socket; closed: Promise<number>; t0: number }> {
    const sock = connect({ port, host: "127.0.0.1", allowHalfOpen: true }); // still writing after the server's FIN
    const t0 = Date.now();
    let text = "";
    // the server's reset when it stops lingering: a write fails, or the read side errors
    const closed = new Promise<number>((r) => {
      sock.on("error", () => r(Date.now() - t0));
      sock.on("close", () => r(Date.now() - t0));
    });
    await new Promise<void>((r) => {
      sock.on("data", (c) => (text += c));
      sock.once("end", () => r());
      sock.write(requestHead("POST", "/", "text/plain", 10 * 1024 * 1024) + "x".repeat(first));
    });
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /\r\nConnection: close\r\n/i);
    return { sock, closed, t0 };
  }

  it("a client still sending after the answer is read from until maxBytes, then cut", async () => {
    const { sock, closed } = await refusedUpload(10);
    let written = 0;
    let stop = false;
    void closed.then(() => (stop = true));
    while (!stop && written < 64 * 1024 * 1024) {
      const chunk = Buffer.alloc(64 * 1024, 120);
      written += chunk.length;
      if (!sock.write(chunk)) await new Promise((r) => setTimeout(r, 5));
    }
    await closed;
    // what the server read (≤ maxBytes) plus what the kernels' buffers held
    assert.ok(written < 32 * 1024 * 1024, `cut after ${written} bytes, not far past ${LINGER.maxBytes}`);
    sock.destroy();
  });

  it("a client that goes quiet is closed after idleMs; one that keeps trickling, after maxMs", async () => {
    const quiet = await refusedUpload(10);
    let reset = false;
    void quiet.closed.then(() => (reset = true));
    await new Promise((r) => setTimeout(r, 100));
    quiet.sock.write("x");
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!reset, "still read from within idleMs");
    await new Promise((r) => setTimeout(r, LINGER.idleMs * 3));
    // the server has closed: what is sent now is answered with a reset
    const poke = setInterval(() => quiet.sock.write("x"), 20);
    const quietAfter = await quiet.closed;
    clearInterval(poke);
    assert.ok(quietAfter < LINGER.idleMs * 3 + 200 + 1000, `closed within idleMs: the reset came ${quietAfter} ms after the request`);

    const trickle = await refusedUpload(10);
    const timer = setInterval(() => trickle.sock.write("x".repeat(100)), 100);
    const after = await trickle.closed;
    clearInterval(timer);
    assert.ok(after >= LINGER.maxMs - 50 && after < LINGER.maxMs + 2500, `closed after ${after} ms (maxMs ${LINGER.maxMs})`);
    for (const s of [quiet.sock, trickle.sock]) s.destroy();
  });

  it("a connection whose client sent all it had and closed its side is closed at once, not kept for idleMs", async () => {
    // node's own listener, not hono: the server's connection count is what is looked at
    const { server: s, endLingering } = createLingeringServer((req, res) => void req.resume().on("end", () => res.end("ok")));
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const connections = () => new Promise<number>((r) => s.getConnections((_, n) => r(n)));
    for (const send of [
      requestHead("POST", "/", "text/plain", 1000) + "x".repeat(10), // a body cut short: the parser's 400
      `POST / HTTP/1.1\r\nHost: a\r\nX-Padding: ${"p".repeat(20_000)}\r\n\r\n`, // the parser's 431
    ]) {
      const sock = connect((s.address() as AddressInfo).port, "127.0.0.1");
      let text = "";
      sock.on("data", (c) => (text += c));
      await new Promise((r) => {
        sock.on("close", r);
        sock.end(send);
      });
      assert.match(text, /^HTTP\/1\.1 4(00|31) /);
      const t0 = Date.now();
      while ((await connections()) > 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await connections(), 0, `the server still holds the connection ${Date.now() - t0} ms after the client closed`);
    }
    endLingering();
    await new Promise((r) => s.close(r));
  });

  it("close() ends lingering connections at once, not after maxMs", async () => {
    const app = new Hono();
    app.use(bodyLimit({ maxSize: 1024, onError: (c) => c.json({ error: "too large" }, 413) }));
    const s = await listen(app, 0); // the default bounds: 30 s
    const sock = connect({ port: Number(new URL(s.url).port), host: "127.0.0.1", allowHalfOpen: true });
    await new Promise<void>((r) => {
      sock.once("end", () => r());
      sock.on("data", () => {});
      sock.write(requestHead("POST", "/", "text/plain", 10 * 1024 * 1024) + "x".repeat(100));
    });
    const t0 = Date.now();
    sock.on("error", () => {});
    await s.close();
    assert.ok(Date.now() - t0 < 1000, `closed in ${Date.now() - t0} ms`);
    sock.destroy();
  });
});
