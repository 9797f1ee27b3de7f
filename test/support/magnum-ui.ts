// magnum-ui's REST layer driven from a test (test/support/magnum-ui-replay.py runs it, with the
// vendored python-magnumclient), and a recording proxy in front of Bayforge that keeps every
// request the client sends and what Bayforge answers: the test asserts both.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT, killGroup } from "./bayforge-process.ts";
import { currentMagnumclientPath } from "./magnumclient-current.ts";

export interface Exchange {
  method: string;
  /** path and query, as sent */
  url: string;
  headers: IncomingHttpHeaders;
  /** the request's JSON body (undefined when none) */
  body: any;
  status: number;
  answer: any;
}

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  /** the exchanges recorded since the last call (and forgets them) */
  take(): Exchange[];
  close(): Promise<void>;
}

const parse = (text: string) => {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** A proxy on 127.0.0.1 that forwards to `target` and records each exchange. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  let taken = 0;
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const fwd = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (up) => {
        const got: Buffer[] = [];
        up.on("data", (c: Buffer) => got.push(c));
        up.on("end", () => {
          const answer = Buffer.concat(got);
          exchanges.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: parse(body.toString("utf8")), status: up.statusCode ?? 0, answer: parse(answer.toString("utf8")) });
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(answer);
        });
      });
      fwd.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    take() {
      const out = exchanges.slice(taken);
      taken = exchanges.length;
      return out;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface ViewAnswer {
  /** what Horizon's ajax wrapper answers the dashboard's JavaScript */
  status: number;
  body: any;
  location?: string;
}

export interface MagnumUi {
  /** Calls one REST view of magnum-ui (`Clusters`, `post`, ...) as the dashboard's JavaScript does. */
  call(view: string, method: string, o?: { kwargs?: Record<string, string>; data?: unknown; query?: Record<string, string> }): Promise<ViewAnswer>;
  close(): Promise<void>;
}

/** magnum-ui's REST layer for one signed-in user: the catalog's endpoint, their token and project. */
export function startMagnumUi(o: { endpoint: string; token: string; project: string; user: string }): MagnumUi {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OS_") && !k.startsWith("PYTHON")) env[k] = v;
  Object.assign(env, {
    // the vendored client first, then magnum-ui's modules
    PYTHONPATH: `${currentMagnumclientPath()}:${join(ROOT, "test", "vendor", "magnum-ui")}`,
    MAGNUM_UI_ENDPOINT: o.endpoint,
    MAGNUM_UI_TOKEN: o.token,
    MAGNUM_UI_PROJECT: o.project,
    MAGNUM_UI_USER: o.user,
    PYTHONDONTWRITEBYTECODE: "1", // no __pycache__ in test/vendor
  });
  const child: ChildProcess = spawn("/usr/bin/python3", [join(ROOT, "test", "support", "magnum-ui-replay.py")], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-20_000)));
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  child.on("exit", () => {
    for (const w of waiting.splice(0)) w(JSON.stringify({ status: -1, body: `the replay exited:\n${stderr}` }));
  });
  return {
    call(view, method, c = {}) {
      return new Promise((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line)));
        child.stdin!.write(`${JSON.stringify({ view, method, kwargs: c.kwargs ?? {}, data: c.data, query: c.query ?? {} })}\n`);
      });
    },
    async close() {
      child.stdin!.end();
      await killGroup(child, "SIGTERM");
    },
  };
}
