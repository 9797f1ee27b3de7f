// A TCP-level HTTP proxy the tests put between Bayforge and a real service (Heat) to
// inject faults no real Heat produces on demand: hold a request forever (so the worker can
// be killed mid-call), or forward it and drop the answer (the stack is made, the caller
// never hears of it). Every request is recorded.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Verdict = "forward" | "hold" | "forward-then-drop" | { status: number; body?: string };

export interface FaultProxy {
  url: string;
  seen: Array<{ method: string; path: string }>;
  /** decides what happens to each request; default forwards everything */
  rule: (method: string, path: string) => Verdict;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const held: ServerResponse[] = [];
  const proxy: FaultProxy = {
    url: "",
    seen: [],
    rule: () => "forward",
    close: () =>
      new Promise<void>((r) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    proxy.seen.push({ method, path });
    const verdict = proxy.rule(method, path);
    if (verdict === "hold") {
      held.push(res);
      req.resume();
      return;
    }
    if (typeof verdict === "object") {
      req.resume();
      res.writeHead(verdict.status, { "content-type": "application/json" }).end(verdict.body ?? "{}");
      return;
    }
    const up = request(
      { host: t.hostname, port: t.port, method, path, headers: { ...req.headers, host: t.host } },
      (upRes) => {
        if (verdict === "forward-then-drop") {
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
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
