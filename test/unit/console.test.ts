// The console's rules that need no cloud: the session cookie is sealed (a tampered or foreign
// cookie is no session), every POST needs the session's CSRF token (nothing reaches the API
// without it), every answer carries the CSP, and hostile text is escaped in the pages and the
// timeline. The API behind the console is a recording stand-in here; test/e2e/console-browser
// runs the real one in a browser.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { consoleRoutes } from "../../functions/api/console/routes.ts";
import { timeline } from "../../functions/api/console/timeline.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { SignInRefused, type SignIn } from "../../shared/ports/sign-in.ts";
import { createLogger } from "../../shared/observability/logger.ts";

const HOSTILE = `<img src=x onerror=alert(1)>"'&`;
const BAY = { uuid: "11111111-2222-3333-4444-555555555555", name: "bay-one", status: "CREATE_FAILED", status_reason: HOSTILE, node_count: 1, master_count: 1, labels: { [HOSTILE]: HOSTILE }, created_at: new Date().toISOString(), cluster_template_id: "t1" };

let app: Hono;
const calls: string[] = [];
const revoked: string[] = [];

const signIn: SignIn = {
  async signIn(cred) {
    if (cred.kind !== "password" || cred.password !== "right") throw new SignInRefused("Keystone refused these credentials.");
    return { token: "tok-123", expiresAt: new Date(Date.now() + 3600_000), userName: HOSTILE, projectName: "demo" };
  },
  async revoke(token) {
    revoked.push(token);
  },
};

/** The API behind the console: answers as the real one would, and records what was asked. */
async function apiStandIn(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  calls.push(`${req.method} ${path} ${req.headers.get("x-auth-token")}`);
  if (req.headers.get("x-auth-token") !== "tok-123") return Response.json({ errors: [{ status: 401 }] }, { status: 401 });
  if (path === "/v1/clusters/detail") return Response.json({ clusters: [BAY] });
  if (path === `/v1/clusters/${BAY.uuid}`) return req.method === "GET" ? Response.json(BAY) : new Response(null, { status: 204 });
  if (path === `/v1/bays/${BAY.uuid}`) return Response.json({ ...BAY, faults: [] });
  if (path === `/v1/bays/${BAY.uuid}/events`) return Response.json({ events: [{ at: BAY.created_at, kind: "accepted", detail: HOSTILE }] });
  return Response.json({ errors: [{ status: 404, detail: "not found" }] }, { status: 404 });
}

const cookieOf = (res: Response, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))?.split(";")[0];

async function signedIn(): Promise<{ cookie: string; csrf: string }> {
  const form = await app.request("/console/sign-in");
  const pre = cookieOf(form, "bf_console_pre")!;
  const preValue = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
  const res = await app.request("/console/sign-in", {
    method: "POST",
    headers: { cookie: pre, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: preValue, username: "demo", password: "right", project: "demo", domain: "Default" }).toString(),
  });
  assert.equal(res.status, 303);
  const cookie = cookieOf(res, "bf_console")!;
  const page = await app.request("/console/bays", { headers: { cookie } });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())![1];
  return { cookie, csrf };
}

before(async () => {
  const vault = await LocalKeyVault.fromFile(join(mkdtempSync(join(tmpdir(), "bf-console-unit-")), "master.key"));
  app = new Hono();
  app.route("/console", consoleRoutes({ vault, log: createLogger({ service: "test" }, "error"), signIn }, apiStandIn));
});

describe("console session and CSRF", () => {
  it("an anonymous page visit goes to sign-in; a sign-in without the form's token is refused", async () => {
    const res = await app.request("/console/bays");
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/console/sign-in");
    const post = await app.request("/console/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "username=demo&password=right&project=demo" });
    assert.equal(post.status, 403);
  });

  it("the session cookie is HttpOnly, SameSite=Strict, Path=/console, Secure behind https, and holds no token in clear", async () => {
    const form = await app.request("https://bayforge.example/console/sign-in");
    const pre = cookieOf(form, "bf_console_pre")!;
    const value = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const res = await app.request("https://bayforge.example/console/sign-in", {
      method: "POST",
      headers: { cookie: pre, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: value, username: "demo", password: "right", project: "demo" }).toString(),
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith("bf_console="))!;
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    assert.match(set, /Path=\/console/);
    assert.match(set, /Secure/);
    assert.ok(!set.includes("tok-123"));
  });

  it("a tampered cookie is no session", async () => {
    const { cookie } = await signedIn();
    const [name, value] = cookie.split("=");
    const flipped = `${name}=${value.slice(0, -6)}${value.slice(-6) === "AAAAAA" ? "BBBBBB" : "AAAAAA"}`;
    const res = await app.request("/console/bays", { headers: { cookie: flipped } });
    assert.equal(res.status, 303);
  });

  it("every POST without the session's CSRF token is 403 and asks the API nothing", async () => {
    const { cookie, csrf } = await signedIn();
    const other = await signedIn();
    calls.length = 0;
    for (const path of [`/console/bays/${BAY.uuid}/delete`, `/console/bays/${BAY.uuid}/scale`, `/console/bays/${BAY.uuid}/rotate-ca`, "/console/bays", "/console/batches", "/console/sign-out"]) {
      for (const token of [undefined, "wrong", other.csrf]) {
        const body = new URLSearchParams({ confirm: "yes", node_count: "2", ...(token ? { csrf: token } : {}) }).toString();
        const res = await app.request(path, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body });
        assert.equal(res.status, 403, `${path} ${token}`);
      }
    }
    assert.deepEqual(calls, [], "the API was not asked anything");
    assert.equal(revoked.length, 0);
    const ok = await app.request(`/console/bays/${BAY.uuid}/delete`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: `csrf=${csrf}&confirm=yes` });
    assert.equal(ok.status, 303);
    assert.ok((calls as string[]).includes(`DELETE /v1/clusters/${BAY.uuid} tok-123`));
  });

  it("sign-out revokes the token; a token the API refuses sends the person to sign-in", async () => {
    const { cookie, csrf } = await signedIn();
    const res = await app.request("/console/sign-out", { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: `csrf=${csrf}` });
    assert.equal(res.status, 303);
    assert.ok(revoked.includes("tok-123"));
    assert.match(res.headers.getSetCookie().join(";"), /bf_console=;/);
  });
});

describe("console pages", () => {
  it("carry the CSP and escape hostile values everywhere", async () => {
    const { cookie } = await signedIn();
    for (const path of ["/console/bays", `/console/bays/${BAY.uuid}`]) {
      const res = await app.request(path, { headers: { cookie } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-security-policy")!, /default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'/);
      const text = await res.text();
      assert.ok(!text.includes("<img"), `${path} has no markup from the data`);
      assert.ok(text.includes("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"), `${path} shows it escaped`);
      assert.ok(!/<script>|style=/.test(text), "no inline script or style");
    }
    const json = await app.request("/console/bays.json", { headers: { cookie } });
    assert.equal(((await json.json()) as { bays: Array<{ name: string }> }).bays[0].name, "bay-one");
  });

  it("the timeline escapes Heat's and Bayforge's text and names a group's members", () => {
    const t0 = Date.parse("2026-12-06T10:00:00Z");
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    const out = String(
      timeline(
        [{ at: at(0), kind: "accepted", detail: "" }, { at: at(5), kind: "stack_requested", detail: HOSTILE }, { at: at(60), kind: "failed", detail: HOSTILE }],
        [],
        false,
        [{ resource: "0", stack: "b1-abc-kube_masters-abcdefghijkl", status: "CREATE_FAILED", reason: HOSTILE, start: at(10), end: at(50) }],
      ),
    );
    assert.ok(!out.includes("<img"));
    assert.ok(out.includes("kube_masters[0]"));
    assert.match(out, /fill="#c62828"/);
    assert.ok(out.includes("40 s"), "the failed resource's duration");
  });
});
