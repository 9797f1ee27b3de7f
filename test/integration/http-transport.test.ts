// The one HTTP transport's cap on the size of an answer, against real local servers that send
// too much in each way a server can: announcing it (Content-Length), streaming it (chunked),
// reading to the connection's end (no length at all), or announcing less than they send. And
// the Kubernetes adapter's tighter cap for a bay's own API, which a tenant controls.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { DEFAULT_MAX_RESPONSE_BYTES, HttpTransport, TOO_LARGE, TransportError } from "../../shared/adapters/http/index.ts";
import { KUBE_MAX_RESPONSE_BYTES, KubernetesClients } from "../../shared/adapters/kubernetes/index.ts";
import { KubernetesError } from "../../shared/ports/kubernetes.ts";
import { isRetryableError } from "../../shared/domain/retryable.ts";

const MiB = 1 << 20;
/** Text that must never appear in an error: the servers fill their bodies with it. */
const MARKER = "SECRET-BODY-MARKER";
const FAST_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 20, budgetMs: 2_000 };

const servers: Server[] = [];
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

async function listen(s: Server): Promise<string> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

/** What a streaming server saw: requests, bytes written, whether it finished writing. */
interface Seen {
  requests: number;
  written: number;
  finished: boolean;
  closed: Promise<void>;
}

/** An HTTP server whose every answer is `answer`'s; `seen` is about the last request. */
async function httpServer(answer: (res: ServerResponse, seen: Seen, req: IncomingMessage) => void): Promise<{ url: string; seen: () => Seen }> {
  let seen: Seen = { requests: 0, written: 0, finished: false, closed: Promise.resolve() };
  let requests = 0;
  const url = await listen(
    createHttpServer((req, res) => {
      let onClose!: () => void;
      seen = { requests: ++requests, written: 0, finished: false, closed: new Promise((r) => (onClose = r)) };
      res.on("close", onClose);
      res.on("error", () => {});
      answer(res, seen, req);
    }),
  );
  return { url, seen: () => seen };
}

/**
 * A raw TCP server that answers any request with the response head `head` (written as is, so
 * it can lie or leave the length out) and then 256 MiB of body; `seen` is about the last one.
 */
async function rawServer(head: string): Promise<{ url: string; seen: () => Seen }> {
  let seen: Seen = { requests: 0, written: 0, finished: false, closed: Promise.resolve() };
  const url = await listen(
    createTcpServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => {
        let onClose!: () => void;
        seen = { requests: seen.requests + 1, written: 0, finished: false, closed: new Promise((r) => (onClose = r)) };
        socket.on("close", onClose);
        socket.write(head);
        stream(socket, seen, 256 * MiB);
      });
    }),
  );
  return { url, seen: () => seen };
}

/** Writes `total` bytes of MARKER-filled body as fast as the peer takes them, then ends. */
function stream(out: ServerResponse | Socket, seen: Seen, total: number): void {
  const chunk = Buffer.from(MARKER.repeat(Math.ceil(65536 / MARKER.length)).slice(0, 65536));
  const pump = () => {
    while (seen.written < total && !out.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - seen.written));
      seen.written += piece.length;
      if (!out.write(piece)) return void out.once("drain", pump);
    }
    if (!out.destroyed) out.end(() => (seen.finished = true));
  };
  pump();
}

function assertTooLarge(e: unknown, limitText: string): true {
  assert.ok(e instanceof TransportError, String(e));
  assert.equal(e.kind, "too_large");
  assert.equal(e.code, TOO_LARGE);
  assert.equal(e.retryable, false);
  assert.equal(e.attempts, 1, "never retried");
  assert.match(e.message, new RegExp(`exceeded the ${limitText} limit`));
  assert.ok(!e.message.includes(MARKER), "the body is not echoed");
  assert.equal(isRetryableError(e), false, "the worker does not retry it either");
  return true;
}

describe("HttpTransport: every answer is capped (real local servers)", () => {
  it("defaults to 16 MiB for OpenStack's APIs", () => {
    assert.equal(DEFAULT_MAX_RESPONSE_BYTES, 16 * MiB);
    assert.equal(new HttpTransport().maxResponseBytes, 16 * MiB);
  });

  it("refuses an answer whose Content-Length is over the limit before reading its body, once, without retrying", async () => {
    const srv = await httpServer((res, seen) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(256 * MiB) });
      stream(res, seen, 256 * MiB);
    });
    const t = new HttpTransport({ maxResponseBytes: MiB, retry: FAST_RETRY });
    try {
      await assert.rejects(t.send({ method: "GET", url: `${srv.url}/big` }), (e) => assertTooLarge(e, "1 MiB") && /announced 268435456 bytes/.test((e as Error).message));
      await srv.seen().closed;
      assert.equal(srv.seen().requests, 1);
      assert.equal(srv.seen().finished, false, "the connection was dropped before the server had sent it all");
    } finally {
      await t.close();
    }
  });

  it("aborts a chunked answer once more than the limit has come, and the server sees the connection dropped", async () => {
    const srv = await httpServer((res, seen) => {
      res.writeHead(200, { "content-type": "application/json" }); // no length: chunked
      stream(res, seen, 256 * MiB);
    });
    const t = new HttpTransport({ maxResponseBytes: MiB, retry: FAST_RETRY });
    try {
      await assert.rejects(t.send({ method: "GET", url: `${srv.url}/stream` }), (e) => assertTooLarge(e, "1 MiB") && /more came/.test((e as Error).message));
      await srv.seen().closed;
      assert.equal(srv.seen().finished, false);
      // what the server got to write: the limit plus what the sockets' buffers held, not 256 MiB
      assert.ok(srv.seen().written < 32 * MiB, `${srv.seen().written} bytes written`);
    } finally {
      await t.close();
    }
  });

  it("aborts an answer with no length at all, read to the connection's end", async () => {
    const { url, seen: last } = await rawServer("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n");
    const t = new HttpTransport({ maxResponseBytes: 512 * 1024, retry: FAST_RETRY });
    try {
      await assert.rejects(t.send({ method: "GET", url: `${url}/eof` }), (e) => assertTooLarge(e, "512 KiB"));
      const seen = last();
      await seen.closed;
      assert.equal(seen.finished, false);
      assert.ok(seen.written < 32 * MiB, `${seen.written} bytes written`);
    } finally {
      await t.close();
    }
  });

  it("reads no more than a Content-Length that lies short announces, and drops the connection the rest comes on", async () => {
    const { url, seen: last } = await rawServer("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1024\r\n\r\n");
    const t = new HttpTransport({ maxResponseBytes: MiB, retry: FAST_RETRY });
    try {
      const res = await t.send({ method: "GET", url: `${url}/short` });
      assert.equal(res.status, 200);
      assert.equal((res.body as string).length, 1024, "the announced length, not what followed");
      const seen = last();
      await seen.closed;
      assert.equal(seen.finished, false);
      assert.ok(seen.written < 32 * MiB, `${seen.written} bytes written`);
    } finally {
      await t.close();
    }
  });

  it("reads an answer of exactly the limit whole; one byte more, streamed, is refused", async () => {
    const limit = 256 * 1024;
    const srv = await httpServer((res, seen, req) => {
      const size = req.url === "/exact" ? limit : limit + 1;
      res.writeHead(200, { "content-type": "text/plain", ...(req.url === "/exact" ? { "content-length": String(size) } : {}) });
      stream(res, seen, size);
    });
    const t = new HttpTransport({ maxResponseBytes: limit, retry: FAST_RETRY });
    try {
      const res = await t.send({ method: "GET", url: `${srv.url}/exact` });
      assert.equal((res.body as string).length, limit);
      await assert.rejects(t.send({ method: "GET", url: `${srv.url}/over` }), (e) => assertTooLarge(e, "256 KiB"));
    } finally {
      await t.close();
    }
  });

  it("lets HEAD through whatever length it announces (it has no body)", async () => {
    const srv = await httpServer((res) => {
      res.writeHead(200, { "content-length": String(64 * MiB) });
      res.end();
    });
    const t = new HttpTransport({ maxResponseBytes: MiB });
    try {
      const res = await t.send({ method: "HEAD", url: `${srv.url}/object` });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-length"], String(64 * MiB));
    } finally {
      await t.close();
    }
  });
});

describe("KubernetesClients: a bay's own API is capped at 4 MiB (a real local server as a tls_disabled bay's API)", () => {
  /** A node list of about `bytes` bytes (chunked), with a node at 10.0.0.10. */
  const nodeList = (bytes: number) => {
    const filler = { metadata: { name: `n-${MARKER}` }, status: { addresses: [{ type: "Hostname", address: "x".repeat(900) }] } };
    const items = [{ metadata: { name: "k-minion-0" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.10" }] } }];
    const each = JSON.stringify(filler).length + 1;
    for (let n = 0; n * each < bytes; n++) items.push(filler as never);
    return JSON.stringify({ kind: "NodeList", items });
  };

  it("reads a node list under the cap, and refuses one over it with a KubernetesError that quotes nothing of it", async () => {
    assert.equal(KUBE_MAX_RESPONSE_BYTES, 4 * MiB);
    const small = nodeList(3 * MiB);
    const big = nodeList(5 * MiB);
    let answer = small;
    const srv = await httpServer((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer);
    });
    const kube = new KubernetesClients().connect({ apiAddress: srv.url });
    try {
      const nodes = await kube.listNodes();
      assert.deepEqual(nodes[0], { name: "k-minion-0", internalIPs: ["10.0.0.10"] });
      answer = big;
      await assert.rejects(kube.listNodes(), (e) => {
        assert.ok(e instanceof KubernetesError);
        assert.equal(e.message, "answered GET /api/v1/nodes with more than the 4 MiB an answer may have (aborted, not kept)");
        return true;
      });
    } finally {
      await kube.close();
    }
  });

  it("takes a smaller cap when given one", async () => {
    const srv = await httpServer((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(nodeList(200 * 1024));
    });
    const kube = new KubernetesClients({ maxResponseBytes: 64 * 1024 }).connect({ apiAddress: srv.url });
    try {
      await assert.rejects(kube.podsOn("k-minion-0"), /^KubernetesError: answered GET \/api\/v1\/pods with more than the 64 KiB an answer may have/);
    } finally {
      await kube.close();
    }
  });
});

describe("HttpTransport: a request that must not act twice (repeatable: false, a stack create) is repeated only when it surely never acted (real local servers)", () => {
  it("is not sent again after a timeout: the server saw it once, and the error says it may have been sent", async () => {
    const s = await httpServer(() => {}); // never answers
    const t = new HttpTransport({ timeoutMs: 150, retry: FAST_RETRY });
    const e = await t.send({ method: "POST", url: `${s.url}/stacks`, json: {}, repeatable: false }).then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof TransportError, String(e));
    assert.equal(e.kind, "timeout");
    assert.equal(e.attempts, 1);
    assert.equal(e.maybeSent, true);
    assert.equal(isRetryableError(e), true, "still worth another try, by a caller that settles it first");
    assert.equal(s.seen().requests, 1);
    await t.close();
  });

  it("a request that may be repeated is sent again after a timeout", async () => {
    const s = await httpServer(() => {});
    const t = new HttpTransport({ timeoutMs: 150, retry: FAST_RETRY });
    await assert.rejects(t.send({ method: "GET", url: `${s.url}/stacks/x` }), (e: unknown) => e instanceof TransportError && e.attempts === 3);
    assert.equal(s.seen().requests, 3);
    await t.close();
  });

  it("is sent again after a 503 (nothing acted), not after a 500 (something may have)", async () => {
    for (const [status, expected] of [[503, 3], [500, 1]] as const) {
      const s = await httpServer((res) => res.writeHead(status, { "content-type": "application/json" }).end("{}"));
      const t = new HttpTransport({ retry: FAST_RETRY });
      const res = await t.send({ method: "POST", url: `${s.url}/stacks`, json: {}, repeatable: false });
      assert.equal(res.status, status);
      assert.equal(res.attempts, expected, `HTTP ${status}`);
      assert.equal(s.seen().requests, expected, `HTTP ${status}`);
      await t.close();
    }
  });

  it("is sent again when the connection was refused, and then says it was never sent", async () => {
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const t = new HttpTransport({ retry: FAST_RETRY });
    const e = await t.send({ method: "POST", url: `http://127.0.0.1:${port}/stacks`, json: {}, repeatable: false }).then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof TransportError, String(e));
    assert.equal(e.code, "ECONNREFUSED");
    assert.equal(e.attempts, 3);
    assert.equal(e.maybeSent, false);
    await t.close();
  });
});
