// /v1/discovery/{token}: the etcd v2 discovery protocol's HTTP handlers, served by Bayforge
// itself so that a bay's masters bootstrap etcd (`--discovery=<url>`) on clouds that cannot
// reach discovery.etcd.io. The keyspace they show is shared/domain/etcd-discovery.ts; the
// directory a bay gets is made by shared/bays/discovery-directory.ts.
//
// The client is etcd's own (go.etcd.io/etcd v3.4 etcdserver/api/v2discovery/discovery.go
// over client/keys.go). It drops the URL's path to use as the directory key, so every
// request below is `<path of the discovery URL>[/<key>]` on this host:
//   GET  <dir>/_config/size                         the expected size
//   GET  <dir>?recursive=false&sorted=false&...     members (+ the _config dir), X-Etcd-Index
//   PUT  <dir>/<member id hex>?prevExist=false      form `value=<name>=<peer url>,...`; 201
//   GET  <dir>/<member id>?wait=true&waitIndex=<its createdIndex>&recursive=false
//   GET  <dir>?wait=true&waitIndex=<X-Etcd-Index + 1>&recursive=true   until `size` members
// Answers and errors are etcd's v2 keys JSON (not Magnum's envelope): the client is etcd.
// No Keystone token: etcd sends none, so the app mounts this before its auth middleware and
// the 128-bit random token in the URL is the only secret.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "../../../shared/observability/logger.ts";
import type { DiscoveryStore } from "../../../shared/ports/discovery-store.ts";
import {
  dirKey, EtcdError, firstEvent, MAX_VALUE_CHARS, MEMBER_ID, memberNode, nodeAt, parseFlag, EXTRA_REGISTRATIONS, TOKEN,
} from "../../../shared/domain/etcd-discovery.ts";

export { DISCOVERY_PATH } from "../../../shared/bays/discovery-directory.ts";

const MAX_BODY_BYTES = 8192;

export interface DiscoveryDeps {
  discovery: DiscoveryStore;
  log: Logger;
  /**
   * How long a `wait=true` request is held before it ends with an empty 200, as etcd's own
   * watch does when it times out; the client then asks again at once (client/keys.go
   * httpWatcher.Next: ErrEmptyBody → retry). Default 25 s, under API Gateway's 29 s.
   */
  waitTimeoutMs?: number;
  /** how often a held request re-reads the store; default 100 ms */
  pollIntervalMs?: number;
  /** held requests per process; more get 503, which the client retries with backoff. Default 1000 */
  maxWaiters?: number;
  now?: () => Date;
}

const headers = (index: number) => ({ "Content-Type": "application/json", "X-Etcd-Index": String(index) });

/** etcd writes its JSON with a trailing newline (json.Encoder). */
const answer = (body: unknown, status: number, index: number) =>
  new Response(JSON.stringify(body) + "\n", { status, headers: headers(index) });

const errorAnswer = (e: EtcdError) => answer(e.body, e.status, e.index);

const flag = (c: Context, name: string) => parseFlag(name, c.req.query(name));

// ---------------------------------------------------------------- routes

export function discoveryRoutes(deps: DiscoveryDeps): Hono {
  const r = new Hono();
  const log = deps.log.child({ component: "etcd-discovery" });
  const waitTimeoutMs = deps.waitTimeoutMs ?? 25_000;
  const pollIntervalMs = deps.pollIntervalMs ?? 100;
  const maxWaiters = deps.maxWaiters ?? 1000;
  let waiters = 0;

  /** The token and the key below it ("" for the directory itself), from the request path. */
  const target = (c: Context) => {
    const token = c.req.param("token") ?? "";
    const path = c.req.path;
    const at = path.indexOf(`/${token}`) + token.length + 1;
    return { token, rel: path.slice(at).replace(/^\/+|\/+$/g, "") };
  };
  /** a token prefix is enough to tell directories apart in logs; the token is a secret */
  const logged = (token: string) => token.slice(0, 8);

  const get = async (c: Context) => {
    const { token, rel } = target(c);
    const recursive = flag(c, "recursive");
    if (!TOKEN.test(token)) throw new EtcdError(100, dirKey(token, rel));
    if (flag(c, "wait")) return watch(c, token, rel, recursive);
    const s = await deps.discovery.listMembers(token);
    if (!s) throw new EtcdError(100, dirKey(token, rel));
    const node = nodeAt(s, rel, recursive, flag(c, "sorted"));
    if (!node) throw new EtcdError(100, dirKey(token, rel), s.directory.index);
    return answer({ action: "get", node }, 200, s.directory.index);
  };

  // A long poll, as etcd's watch: answers the first matching event at or after waitIndex
  // (default: the next one), re-reading the store until the timeout or the client leaves.
  const watch = async (c: Context, token: string, rel: string, recursive: boolean) => {
    const raw = c.req.query("waitIndex");
    let since = 0;
    if (raw !== undefined && raw !== "") {
      if (!/^\d+$/.test(raw)) throw new EtcdError(203, "invalid value for waitIndex");
      since = Number(raw);
    }
    let s = await deps.discovery.listMembers(token);
    if (!s) throw new EtcdError(100, dirKey(token, rel));
    // etcd answers with the index at which the watch started
    const startIndex = s.directory.index;
    if (since === 0) since = startIndex + 1;
    let event = firstEvent(s, rel, recursive, since);
    if (event) return answer(event, 200, startIndex);
    if (waiters >= maxWaiters) throw new EtcdError(300, "too many waiting requests, retry later", startIndex, 503);
    waiters++;
    try {
      const signal = c.req.raw.signal;
      const deadline = Date.now() + waitTimeoutMs;
      while (!event && !signal.aborted && Date.now() < deadline) {
        await sleep(Math.min(pollIntervalMs, deadline - Date.now()), signal);
        s = (await deps.discovery.listMembers(token)) ?? s;
        event = firstEvent(s, rel, recursive, since);
      }
    } finally {
      waiters--;
    }
    // No event: an empty 200, as etcd's watch that times out; the client asks again.
    return event ? answer(event, 200, startIndex) : new Response(null, { status: 200, headers: headers(startIndex) });
  };

  const put = async (c: Context) => {
    const { token, rel } = target(c);
    if (!TOKEN.test(token)) throw new EtcdError(100, dirKey(token, rel));
    if (rel.startsWith("_")) throw new EtcdError(106, `${dirKey(token, rel)}: the directory's configuration cannot be changed`);
    if (!MEMBER_ID.test(rel))
      throw new EtcdError(209, `${dirKey(token, rel)}: only etcd member ids (hex) can be registered in a discovery directory`);
    // Entries are create-only: with prevExist absent or false an existing one is "Key already exists".
    const prevExist = c.req.query("prevExist");
    if (prevExist !== undefined && flag(c, "prevExist"))
      throw new EtcdError(209, "prevExist: discovery entries can only be created (prevExist=false)");
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/x-www-form-urlencoded\b/i.test(type))
      throw new EtcdError(210, "send the value as application/x-www-form-urlencoded (value=<name>=<peer url>)");
    const value = new URLSearchParams(await c.req.text()).get("value") ?? "";
    if (!value) throw new EtcdError(200, "value");
    if (value.length > MAX_VALUE_CHARS) throw new EtcdError(209, `value: longer than ${MAX_VALUE_CHARS} characters`);

    const dir = await deps.discovery.getDirectory(token);
    if (!dir) throw new EtcdError(100, dirKey(token));
    const maxMembers = dir.size + EXTRA_REGISTRATIONS;
    const result = await deps.discovery.addMember(token, rel, value, maxMembers);
    const fields = { directory: logged(token), member: rel };
    switch (result.outcome) {
      case "missing":
        throw new EtcdError(100, dirKey(token));
      case "exists":
        log.warn("etcd member registered twice", { ...fields, index: result.index });
        throw new EtcdError(105, dirKey(token, rel), result.index);
      case "full":
        log.warn("etcd discovery directory refused a registration: full", { ...fields, maxMembers });
        throw new EtcdError(103, `${dirKey(token)} holds ${maxMembers} registrations, the most it accepts`, result.index);
      case "created":
        log.info("etcd member registered", { ...fields, index: result.index, size: dir.size });
        return answer({ action: "create", node: memberNode(token, result.member) }, 201, result.index);
    }
  };

  const handle = (fn: (c: Context) => Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c);
    } catch (e) {
      if (e instanceof EtcdError) return errorAnswer(e);
      log.error("etcd discovery request failed", { method: c.req.method, err: e });
      return errorAnswer(new EtcdError(300, "the discovery store failed; retry"));
    }
  };
  // etcd answers methods its keys API does not serve with a plain 405.
  const notAllowed = () => new Response("Method Not Allowed", { status: 405, headers: { Allow: "GET, PUT" } });
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => errorAnswer(new EtcdError(210, `the request body exceeds ${MAX_BODY_BYTES} bytes`, 0, 413)),
  });

  for (const path of ["/:token", "/:token/*"]) {
    r.get(path, handle(get));
    r.put(path, limit, handle(put));
    r.all(path, notAllowed);
  }
  return r;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });
}
