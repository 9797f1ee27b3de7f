// A TCP-level HTTP proxy the tests put between Bayforge and a real service (Keystone, Heat)
// to inject faults no real service produces on demand: hold a request forever (so the
// worker can be killed mid-call), forward it and drop the answer (the stack is made, the
// caller never hears of it), answer an error status, drop the connection without an
// answer, or answer only after the caller's timeout. Every request is recorded.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Verdict =
  | "forward"
  /** never answer (until the proxy closes) */
  | "hold"
  /** forward it, then drop the connection instead of passing the answer on */
  | "forward-then-drop"
  /** drop the connection at once: the service never sees the request */
  | "drop"
  /** answer this status (and body) instead of the service */
  | { status: number; body?: string }
  /** forward it only after this delay (the service acts on it; the caller may have given up) */
  | { delayMs: number }
  /** forward it once this settles: the test lets it through when the moment has come */
  | { forwardAfter: Promise<unknown> };

/**
 * Decides what happens to each request. `body` is the request's body as text ("" when it
 * has none): how a test tells one bay's POST /stacks from another's.
 */
export type Rule = (method: string, path: string, body: string) => Verdict;

export interface FaultProxy {
  url: string;
  /** every request, in arrival order: `at` is when it arrived, `ms` how long its answer took (once answered) */
  seen: Array<{ method: string; path: string; verdict: string; at: number; ms?: number }>;
  /** decides what happens to each request; default forwards everything */
  rule: Rule;
  close(): Promise<void>;
}

/** `verdict` for the next `n` requests this rule is asked about, then `then` decides ("5xx for N requests"). */
export function firstN(n: number, verdict: Verdict, then: Rule = () => "forward"): Rule {
  let left = n;
  return (method, path, body) => (left-- > 0 ? verdict : then(method, path, body));
}

/** Each request gets the next verdict of `verdicts`, round and round. */
export function cycle(verdicts: readonly Verdict[]): Rule {
  let i = 0;
  return () => verdicts[i++ % verdicts.length];
}

/** An error answer in the shape Heat and Keystone use (`{"error": {"code", "title", "message"}}`). */
export const unavailable = (service: string, status = 503): { status: number; body: string } => {
  const title = status === 503 ? "Service Unavailable" : "Internal Server Error";
  return { status, body: JSON.stringify({ error: { code: status, title, message: `${service} is unavailable (fault injected by the test proxy)` } }) };
};

const describe = (v: Verdict): string =>
  typeof v === "string" ? v : "status" in v ? `status ${v.status}` : "delayMs" in v ? `delay ${v.delayMs} ms` : "forward later";

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const held: ServerResponse[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const proxy: FaultProxy = {
    url: "",
    seen: [],
    rule: () => "forward",
    close: () =>
      new Promise<void>((r) => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, dropAnswer: boolean) => {
    res.on("error", () => {}); // the caller may have hung up (timed out) already
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
      (upRes) => {
        if (dropAnswer || res.destroyed) {
          upRes.resume();
          upRes.on("end", () => res.socket?.destroy());
          return;
        }
        const headers = { ...upRes.headers };
        // Rewrite redirects back through the proxy so the caller stays behind it.
        if (headers.location) headers.location = headers.location.replace(t.origin, proxy.url);
        res.writeHead(upRes.statusCode ?? 502, headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.socket?.destroy());
    up.end(body);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const method = req.method ?? "GET";
      const path = req.url ?? "/";
      const body = Buffer.concat(chunks);
      const verdict = proxy.rule(method, path, body.toString("utf8"));
      const entry: FaultProxy["seen"][number] = { method, path, verdict: describe(verdict), at: performance.now() };
      proxy.seen.push(entry);
      res.on("finish", () => (entry.ms = performance.now() - entry.at));
      if (verdict === "hold") {
        held.push(res);
        return;
      }
      if (verdict === "drop") {
        res.socket?.destroy();
        return;
      }
      if (typeof verdict === "object" && "status" in verdict) {
        res.writeHead(verdict.status, { "content-type": "application/json" }).end(verdict.body ?? "{}");
        return;
      }
      if (typeof verdict === "object" && "delayMs" in verdict) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          forward(req, res, body, false);
        }, verdict.delayMs);
        timers.add(timer);
        return;
      }
      if (typeof verdict === "object") {
        held.push(res);
        const go = () => {
          if (!closed) forward(req, res, body, false);
        };
        verdict.forwardAfter.then(go, go);
        return;
      }
      forward(req, res, body, verdict === "forward-then-drop");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
