// /console: the web console, served by the API's own app (locally and on Lambda alike).
// Sign-in gets a Keystone token for the person (the SignIn port) and seals it into a cookie;
// every page then asks the API in-process with that token (api-call.ts). Every POST carries
// the session's CSRF token (a form field, or X-CSRF-Token from the script) or gets 403 with
// nothing written; every answer carries a CSP that forbids inline script.
import { Hono, type Context } from "hono";
import type { KeyVault } from "../../../shared/ports/key-vault.ts";
import { SignInRefused, type SignIn, type SignInCredentials } from "../../../shared/ports/sign-in.ts";
import type { Logger } from "../../../shared/observability/logger.ts";
import type { StackHistory } from "../../../shared/ports/stack-history.ts";
import { BAY_STATUSES } from "../../../shared/domain/status.ts";
import { apiFor, apiMessage, NotSignedIn, seg, type Answer, type Api, type AppFetch } from "./api-call.ts";
import { clearPreCookie, clearSession, newSecret, readPreCookie, readSession, sameSecret, setPreCookie, writeSession, type ConsoleSession } from "./session.ts";
import { page, type Html, type Viewer } from "./layout.ts";
import * as P from "./pages.ts";
import { CLIENT_CSS, CLIENT_JS } from "./static.ts";

export interface ConsoleDeps {
  vault: KeyVault;
  log: Logger;
  /** Keystone sign-in; absent (noauth mode) → the console says it needs Keystone */
  signIn?: SignIn;
  /** Heat's events for the timeline; absent → the timeline shows Bayforge's steps only */
  stackHistory?: StackHistory;
}

type Env = { Variables: { session: ConsoleSession; api: Api; viewer: Viewer } };

const CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/** what one text field of a form may hold (names, counts, label lines); the body limit bounds the rest */
const FIELD_MAX = 16 * 1024;

export function consoleRoutes(deps: ConsoleDeps, appFetch: AppFetch): Hono {
  const r = new Hono<Env>({ strict: false });

  r.use(async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    if (!c.req.path.startsWith("/console/static/")) c.header("Cache-Control", "no-store");
  });
  r.get("/static/console.js", (c) => c.body(CLIENT_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }));
  r.get("/static/console.css", (c) => c.body(CLIENT_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }));

  const signIn = deps.signIn;
  if (!signIn) {
    r.all("*", (c) => c.html(page("Console unavailable", P.messagePage("The console signs people in with Keystone; this Bayforge runs without authentication (BAYFORGE_AUTH=noauth), so the console is off.")), 404));
    return r as unknown as Hono;
  }

  const toSignIn = (c: Context) => {
    clearSession(c);
    return c.redirect("/console/sign-in", 303);
  };
  const wantsJson = (c: Context) => c.req.path.endsWith(".json") || c.req.path.endsWith("/kubeconfig");

  r.onError((err, c) => {
    if (err instanceof NotSignedIn) {
      clearSession(c);
      return wantsJson(c) ? c.json({ error: "not signed in" }, 401) : c.redirect("/console/sign-in", 303);
    }
    deps.log.error("console error", { err });
    return c.html(page("Something went wrong", P.messagePage("The console could not complete this request; see Bayforge's logs.")), 500);
  });

  r.get("/", (c) => c.redirect("/console/bays", 303));

  // ---------------------------------------------------------------- sign-in / sign-out
  const signInForm = (c: Context, status: 200 | 400 | 401 | 503, error?: string, values = {}) => {
    const pre = newSecret();
    setPreCookie(c, pre);
    return c.html(page("Sign in", P.signInPage(pre, error, values)), status);
  };
  r.get("/sign-in", (c) => signInForm(c, 200));
  r.post("/sign-in", async (c) => {
    const f = await form(c);
    // login CSRF: the form's secret must match the cookie set with it (double submit)
    if (!sameSecret(f.csrf, readPreCookie(c))) return forbidden(c);
    const values = { username: f.username, project: f.project, domain: f.domain };
    let cred: SignInCredentials;
    if (f.app_cred_id) cred = { kind: "application_credential", id: f.app_cred_id, secret: f.app_cred_secret ?? "" };
    else if (f.username && f.password && f.project) cred = { kind: "password", username: f.username, password: f.password, projectName: f.project, domainName: f.domain || "Default" };
    else return signInForm(c, 400, "Give a user, password and project (and domain), or an application credential's ID and secret.", values);
    try {
      const got = await signIn.signIn(cred);
      clearPreCookie(c);
      await writeSession(c, deps.vault, { token: got.token, csrf: newSecret(), expiresAt: got.expiresAt.getTime(), user: got.userName, project: got.projectName, heat: got.orchestrationUrl });
      return c.redirect("/console/bays", 303);
    } catch (e) {
      if (e instanceof SignInRefused) return signInForm(c, 401, e.message, values);
      deps.log.warn("console sign-in failed", { err: e });
      return signInForm(c, 503, "Keystone could not be reached to sign you in; try again shortly.", values);
    }
  });

  // ---------------------------------------------------------------- everything else: a session
  r.use("*", async (c, next) => {
    const s = await readSession(c, deps.vault);
    if (c.req.method === "POST") {
      // no session, or a token that is not this session's: refused before anything is read or written
      const given = c.req.header("x-csrf-token") ?? (await form(c)).csrf;
      if (!s || !sameSecret(given, s.csrf)) return forbidden(c);
    } else if (!s) {
      return wantsJson(c) ? c.json({ error: "not signed in" }, 401) : toSignIn(c);
    }
    c.set("session", s!);
    c.set("api", apiFor(appFetch, origin(c), s!.token));
    c.set("viewer", { user: s!.user, project: s!.project, csrf: s!.csrf });
    await next();
  });

  r.post("/sign-out", async (c) => {
    try {
      await signIn.revoke(c.get("session").token);
    } catch (e) {
      deps.log.warn("console sign-out: token not revoked", { err: e });
    }
    return toSignIn(c);
  });

  const show = (c: Context<Env>, title: string, body: Html, status: 200 | 400 | 404 | 409 = 200) => c.html(page(title, body, c.get("viewer")), status);
  const failed = (c: Context<Env>, a: Answer) =>
    show(c, a.status === 404 ? "Not found" : "Refused", P.messagePage(apiMessage(a)), a.status === 404 ? 404 : a.status === 409 ? 409 : 400);

  // ---------------------------------------------------------------- bays
  const bayRows = async (c: Context<Env>) => {
    const status = BAY_STATUSES.find((s) => s === c.req.query("status"));
    const a = await c.get("api")("GET", "/v1/clusters/detail");
    if (!a.ok) return { status, rows: undefined, answer: a };
    const now = Date.now();
    const rows = (a.body.clusters as any[]).filter((b) => !status || b.status === status).map((b) => P.bayRow(b, now));
    return { status, rows, answer: a };
  };
  r.get("/bays", async (c) => {
    const { status, rows, answer } = await bayRows(c);
    return rows ? show(c, "Bays", P.baysPage(rows, status)) : failed(c, answer);
  });
  r.get("/bays.json", async (c) => {
    const { rows, answer } = await bayRows(c);
    return rows ? c.json({ bays: rows }) : c.json({ error: apiMessage(answer) }, 502);
  });

  const templates = async (c: Context<Env>) => {
    const a = await c.get("api")("GET", "/v1/clustertemplates/detail");
    return a.ok ? (a.body.clustertemplates as any[]) : [];
  };
  r.get("/bays/new", async (c) => show(c, "Create a bay", P.createPage(await templates(c), c.get("viewer"), { cluster_template_id: c.req.query("template"), master_count: "1", node_count: "1" })));
  r.post("/bays", async (c) => {
    const f = await form(c);
    const values = Object.fromEntries(P.CREATE_FIELDS.map((k) => [k, f[k] ?? ""]));
    const body: Record<string, unknown> = { name: f.name || null, cluster_template_id: f.cluster_template_id ?? "" };
    const problems: Record<string, string> = {};
    for (const k of ["master_count", "node_count", "create_timeout"] as const) {
      if (!f[k]) continue;
      if (!/^\d{1,9}$/.test(f[k])) problems[k] = "Give a whole number.";
      else body[k] = Number(f[k]);
    }
    if (f.keypair) body.keypair = f.keypair;
    if (f.labels?.trim()) {
      const labels: Record<string, string> = {};
      for (const line of f.labels.split(/\r?\n|,/).map((l) => l.trim()).filter(Boolean)) {
        const i = line.indexOf("=");
        if (i <= 0) problems.labels = `"${line.slice(0, 60)}" is not key=value.`;
        else labels[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      body.labels = labels;
    }
    if (!Object.keys(problems).length) {
      const a = await c.get("api")("POST", "/v1/clusters", body);
      if (a.ok) return c.redirect(`/console/bays/${seg(a.body.uuid)}`, 303);
      const message = apiMessage(a);
      // the API's own message, next to the field it names (else above the form)
      const field = P.CREATE_FIELDS.find((k) => new RegExp(`\\b${k}\\b`).test(message)) ?? (/ClusterTemplate/i.test(message) ? "cluster_template_id" : undefined);
      if (field) problems[field] = message;
      else return show(c, "Create a bay", P.createPage(await templates(c), c.get("viewer"), values, {}, message), 400);
    }
    return show(c, "Create a bay", P.createPage(await templates(c), c.get("viewer"), values, problems), 400);
  });

  const detail = async (c: Context<Env>, extra: { error?: string; info?: string } = {}, status: 200 | 400 | 409 = 200) => {
    const id = seg(c.req.param("id")!);
    const api = c.get("api");
    // the faults with their times and the events are the bay API's (which ends at 1.10)
    const [cluster, bay, events] = await Promise.all([api("GET", `/v1/clusters/${id}`), api("GET", `/v1/bays/${id}`, undefined, undefined, "1.10"), api("GET", `/v1/bays/${id}/events`, undefined, undefined, "1.10")]);
    if (!cluster.ok) return failed(c, cluster);
    const s = c.get("session");
    const spans =
      deps.stackHistory && s.heat && cluster.body.cluster_id
        ? await deps.stackHistory.spans(s.token, s.heat, cluster.body.cluster_id).catch((err) => {
            deps.log.warn("console: Heat's events not read", { err });
            return undefined;
          })
        : undefined;
    const data = { cluster: cluster.body, faults: bay.ok ? bay.body.faults ?? [] : [], events: events.ok ? events.body.events ?? [] : [], spans, ...extra };
    return show(c, `Bay ${cluster.body.name}`, P.bayPage(data, c.get("viewer")), status);
  };
  const DONE: Record<string, string> = { rotated: "CA rotation started. A kubeconfig downloaded after it completes works with the new CA.", scaling: "Scaling started." };
  r.get("/bays/:id", (c) => detail(c, { info: DONE[c.req.query("done") ?? ""] }));
  r.get("/bays/:id/state.json", async (c) => {
    const a = await c.get("api")("GET", `/v1/clusters/${seg(c.req.param("id"))}`);
    if (!a.ok) return c.json({ error: apiMessage(a) }, a.status === 404 ? 404 : 502);
    const { status, status_reason, node_count, master_count, api_address } = a.body;
    return c.json({ status, status_reason, node_count, master_count, api_address });
  });
  r.post("/bays/:id/scale", async (c) => {
    const f = await form(c);
    if (!/^\d{1,9}$/.test(f.node_count ?? "")) return detail(c, { error: "Give the number of nodes as a whole number." }, 400);
    const a = await c.get("api")("PATCH", `/v1/clusters/${seg(c.req.param("id"))}`, [{ op: "replace", path: "/node_count", value: Number(f.node_count) }]);
    if (a.status === 404) return failed(c, a);
    return a.ok ? c.redirect(`/console/bays/${seg(c.req.param("id"))}?done=scaling`, 303) : detail(c, { error: apiMessage(a) }, a.status === 409 ? 409 : 400);
  });
  r.post("/bays/:id/rotate-ca", async (c) => {
    const a = await c.get("api")("PATCH", `/v1/certificates/${seg(c.req.param("id"))}`);
    if (a.status === 404) return failed(c, a);
    return a.ok ? c.redirect(`/console/bays/${seg(c.req.param("id"))}?done=rotated`, 303) : detail(c, { error: apiMessage(a) }, a.status === 409 ? 409 : 400);
  });
  r.post("/bays/:id/delete", async (c) => {
    const f = await form(c);
    if (f.confirm !== "yes") return detail(c, { error: "Tick the box to confirm the delete." }, 400);
    const a = await c.get("api")("DELETE", `/v1/clusters/${seg(c.req.param("id"))}`);
    if (a.status === 404) return failed(c, a);
    return a.ok ? c.redirect("/console/bays", 303) : detail(c, { error: apiMessage(a) }, a.status === 409 ? 409 : 400);
  });
  // The browser's CSR → the API signs it (as for `openstack coe cluster config`); the answer
  // holds only public material: the CA, the signed certificate and the server's address.
  r.post("/bays/:id/kubeconfig", async (c) => {
    let csr: unknown;
    try {
      csr = ((await c.req.json()) as { csr?: unknown }).csr;
    } catch {
      csr = undefined;
    }
    if (typeof csr !== "string") return c.json({ error: "Send {\"csr\": \"<PEM>\"}." }, 400);
    const id = seg(c.req.param("id"));
    const api = c.get("api");
    const cluster = await api("GET", `/v1/clusters/${id}`);
    if (!cluster.ok) return c.json({ error: apiMessage(cluster) }, cluster.status === 404 ? 404 : 400);
    const [ca, signed] = await Promise.all([api("GET", `/v1/certificates/${id}`), api("POST", "/v1/certificates", { cluster_uuid: cluster.body.uuid, csr })]);
    if (!ca.ok) return c.json({ error: apiMessage(ca) }, 400);
    if (!signed.ok) return c.json({ error: apiMessage(signed) }, 400);
    return c.json({ name: cluster.body.name, server: cluster.body.api_address ?? "", ca_pem: ca.body.pem, cert_pem: signed.body.pem });
  });

  // ---------------------------------------------------------------- templates
  r.get("/templates", async (c) => {
    const a = await c.get("api")("GET", "/v1/clustertemplates/detail");
    return a.ok ? show(c, "Templates", P.templatesPage(a.body.clustertemplates)) : failed(c, a);
  });
  r.get("/templates/:id", async (c) => {
    const a = await c.get("api")("GET", `/v1/clustertemplates/${seg(c.req.param("id"))}`);
    return a.ok ? show(c, `Template ${a.body.name ?? a.body.uuid}`, P.templatePage(a.body)) : failed(c, a);
  });

  // ---------------------------------------------------------------- batches
  r.get("/batches/new", (c) => show(c, "Apply a batch", P.batchNewPage(c.get("viewer"))));
  r.post("/batches", async (c) => {
    const body = await c.req.parseBody();
    const file = body.file;
    const text = typeof file === "object" && file && "text" in file && file.size > 0 ? await file.text() : typeof body.manifest === "string" ? body.manifest : "";
    const a = await c.get("api")("POST", "/v1/batches", text, "application/yaml");
    if (a.ok) return c.redirect(`/console/batches/${seg(a.body.uuid)}`, 303);
    const message = apiMessage(a);
    // "The manifest has N problems; nothing was applied:\n<path>: <message>\n…"
    const [head, ...lines] = message.split("\n");
    const problems = lines.map((l) => {
      const i = l.indexOf(": ");
      return i > 0 ? { path: l.slice(0, i), message: l.slice(i + 2) } : { path: "", message: l };
    });
    return show(c, "Apply a batch", P.batchNewPage(c.get("viewer"), problems, problems.length ? undefined : head, text.length <= 64 * 1024 ? text : ""), 400);
  });
  r.get("/batches/:id", async (c) => {
    const a = await c.get("api")("GET", `/v1/batches/${seg(c.req.param("id"))}`);
    return a.ok ? show(c, "Batch", P.batchPage(a.body)) : failed(c, a);
  });
  r.get("/batches/:id/state.json", async (c) => {
    const a = await c.get("api")("GET", `/v1/batches/${seg(c.req.param("id"))}`);
    return a.ok ? c.json({ summary: P.batchSummary(a.body), items: a.body.bays }) : c.json({ error: apiMessage(a) }, a.status === 404 ? 404 : 502);
  });

  r.all("*", (c) => show(c, "Not found", P.messagePage("There is no such console page."), 404));
  return r as unknown as Hono;
}

/** The origin the in-process API call is addressed to: the request's own, so the API's links match. */
const origin = (c: Context) => new URL(c.req.url).origin;

function forbidden(c: Context) {
  return c.html(page("Forbidden", P.messagePage("This form's security token is missing or wrong, so nothing was changed. Reload the page and try again.")), 403);
}

/** The form's text fields (urlencoded or multipart), each cut to FIELD_MAX. */
async function form(c: Context): Promise<Record<string, string | undefined>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return {};
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === "string" ? v.slice(0, FIELD_MAX) : undefined]));
}
