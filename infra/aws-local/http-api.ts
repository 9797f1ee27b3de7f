// The HTTP API (API Gateway v2) on a node:http server: each request becomes a payload format
// 2.0 event exactly as API Gateway builds it, goes to the function of its route (route keys
// from the template: "METHOD /path", "ANY /path", else "$default"), and the function's answer
// becomes the HTTP response as API Gateway's 2.0 format reads it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { InvokeResult } from "./function-pool.ts";

/** API Gateway's payload limit. */
const MAX_BODY = 10 * 1024 * 1024;
/** HTTP APIs give an integration 30 s. */
const INTEGRATION_TIMEOUT_MS = 30_000;

export type Invoke = (functionId: string, event: unknown) => Promise<InvokeResult>;

export interface HttpApiOptions {
  routes: Map<string, string>;
  invoke: Invoke;
  apiId: string;
  region: string;
  accountId: string;
}

/** Content types API Gateway passes as text; every other body is base64 (isBase64Encoded). */
const TEXT = /^(text\/|application\/(json|javascript|xml|[^;]*\+json|[^;]*\+xml)\b)/i;

export function toEvent(req: IncomingMessage, body: Buffer, o: { routeKey: string; apiId: string; accountId: string; domainName: string; now?: Date }) {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQueryString = q < 0 ? "" : url.slice(q + 1);
  // lower-cased names, repeated headers joined with ","; cookies travel apart
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    if (name === "cookie") {
      cookies = [...(cookies ?? []), ...value.split(";").map((c) => c.trim()).filter(Boolean)];
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const part of rawQueryString ? rawQueryString.split("&") : []) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const [k, v] = (eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)]).map((s) => decode(s));
    queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
  }
  const now = o.now ?? new Date();
  const requestId = randomBytes(10).toString("base64").replace(/[+/]/g, "A");
  const text = TEXT.test(headers["content-type"] ?? "");
  const host = headers.host ?? o.domainName;
  return {
    version: "2.0",
    routeKey: o.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    requestContext: {
      accountId: o.accountId,
      apiId: o.apiId,
      domainName: host,
      domainPrefix: host.split(".")[0],
      http: {
        method: req.method ?? "GET",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: o.routeKey,
      stage: "$default",
      time: clf(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: text ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

/** The route a request takes: an exact "METHOD /path", then "ANY /path", then $default. */
export function routeFor(routes: Map<string, string>, method: string, path: string): string | undefined {
  for (const key of [`${method} ${path}`, `ANY ${path}`, "$default"]) if (routes.has(key)) return key;
  return undefined;
}

/** API Gateway's reading of a 2.0 function result. */
export function toResponse(result: unknown): { status: number; headers: Array<[string, string]>; body: Buffer } {
  const shaped = result !== null && typeof result === "object" && "statusCode" in result;
  if (!shaped) {
    // a result without statusCode: 200, the value as JSON (a string as it is)
    const body = typeof result === "string" ? result : JSON.stringify(result);
    return { status: 200, headers: [["content-type", "application/json"]], body: Buffer.from(body ?? "") };
  }
  const r = result as { statusCode: number; headers?: Record<string, unknown>; multiValueHeaders?: Record<string, unknown[]>; cookies?: string[]; body?: string; isBase64Encoded?: boolean };
  const headers: Array<[string, string]> = [];
  for (const [k, vs] of Object.entries(r.multiValueHeaders ?? {})) for (const v of vs ?? []) headers.push([k, String(v)]);
  for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined && v !== null) headers.push([k, String(v)]);
  for (const c of r.cookies ?? []) headers.push(["set-cookie", c]);
  if (!headers.some(([k]) => k.toLowerCase() === "content-type") && r.body) headers.push(["content-type", "application/json"]);
  const body = r.body === undefined || r.body === null ? Buffer.alloc(0) : r.isBase64Encoded ? Buffer.from(r.body, "base64") : Buffer.from(String(r.body));
  return { status: Number(r.statusCode), headers, body };
}

export async function startHttpApi(host: string, port: number, o: HttpApiOptions): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => void handle(req, res, o));
  await new Promise<void>((ok, no) => {
    server.once("error", no);
    server.listen(port, host, () => ok());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${a.address}:${a.port}` };
}

async function handle(req: IncomingMessage, res: ServerResponse, o: HttpApiOptions): Promise<void> {
  const answer = (status: number, message: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...extra });
    res.end(JSON.stringify({ message }));
  };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) return answer(413, "Request Entity Too Large", { connection: "close" });
    chunks.push(c);
  }
  const path = (req.url ?? "/").split("?")[0];
  const routeKey = routeFor(o.routes, req.method ?? "GET", path);
  if (!routeKey) return answer(404, "Not Found");
  const event = toEvent(req, Buffer.concat(chunks), { routeKey, apiId: o.apiId, accountId: o.accountId, domainName: req.headers.host ?? "127.0.0.1" });
  const apigwId = { "apigw-requestid": event.requestContext.requestId };
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    o.invoke(o.routes.get(routeKey)!, event),
    new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), INTEGRATION_TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
  if (result === "timeout") return answer(503, "Service Unavailable", apigwId);
  if (!result.ok) return result.error.errorType === "TooManyRequestsException" ? answer(429, "Too Many Requests", apigwId) : answer(500, "Internal Server Error", apigwId);
  let r;
  try {
    r = toResponse(result.value);
  } catch {
    return answer(500, "Internal Server Error", apigwId);
  }
  res.statusCode = r.status;
  for (const [k, v] of [...r.headers, ...Object.entries(apigwId)]) res.appendHeader(k, v);
  res.end(r.body);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** API Gateway's requestContext.time: 12/Mar/2020:19:03:58 +0000 */
function clf(d: Date): string {
  const m = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${m}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
