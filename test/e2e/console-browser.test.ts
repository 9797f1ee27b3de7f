// The web console (/console) in a real browser: headless Chromium against `npm start` in
// Keystone mode on the light dev cloud. The demo user signs in, creates a bay from a template
// and watches it reach CREATE_COMPLETE without a reload, opens its timeline, scales it,
// downloads a kubeconfig (checked with openssl against the bay's CA), deletes it and signs
// out, after which the old cookie gets nothing. A second project's user (demo2) is refused
// every console route on project 1's bay, template and batch; every POST without the CSRF
// token is refused with nothing written; and markup in a template's name, a bay's labels and
// Heat's failure reason shows as text on every page. The run writes the README's screenshots
// to docs/console/.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { api, ROOT, startBayforge, userToken, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { launchChromium } from "../support/browser.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `cs${Date.now().toString(36)}`;
const WAIT_MS = 240_000;
const SHOTS = join(ROOT, "docs", "console");
const MODEL = { coe: "kubernetes", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small" };
const V = { "openstack-api-version": "container-infra latest" };
/** markup in every tenant-controlled value the console shows */
const XSS = {
  template: `<b>${RUN}</b><script>alert(1)</script>`,
  labelKey: `<i>k</i><svg onload=alert(2)>`,
  labelValue: `<img src=x onerror=alert(3)>`,
  // Heat quotes the value in its reason (quotes inside it would come back escaped)
  reason: `<img src=y onerror=alert(4)>`,
};

let bf: BayforgeProcess;
let browser: Browser;
let demo: OpenStack;
let dir: string;
let okModel: string;
let brokenModel: string;
let xssModel: string;
/** project 1 (demo): a failed bay, the XSS bay and a batch, kept for the isolation and CSRF checks */
let failedBay: string;
let xssBay: string;
let batchId: string | undefined;

type Cookies = Awaited<ReturnType<BrowserContext["cookies"]>>;

/** A request outside the browser with a context's cookies: what a replayed cookie gets. */
async function raw(cookies: Cookies, method: string, path: string, body?: Record<string, string> | string, headers: Record<string, string> = {}) {
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const form = body !== undefined && typeof body !== "string";
  const res = await fetch(bf.url + path, {
    method,
    redirect: "manual",
    headers: { cookie, ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}), ...headers },
    body: body === undefined ? undefined : form ? new URLSearchParams(body).toString() : body,
  });
  return { status: res.status, location: res.headers.get("location"), text: await res.text() };
}

interface Watched {
  page: Page;
  dialogs: string[];
  cspErrors: string[];
}

/** A page that records every dialog (an executed payload) and every CSP violation. */
async function watchedPage(ctx: BrowserContext): Promise<Watched> {
  const page = await ctx.newPage();
  const w: Watched = { page, dialogs: [], cspErrors: [] };
  page.on("dialog", (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) w.cspErrors.push(m.text());
  });
  return w;
}

async function signIn(page: Page, user: string, project = user) {
  await page.goto(`${bf.url}/console`);
  assert.match(page.url(), /\/console\/sign-in$/, "an anonymous visit lands on the sign-in page");
  await page.getByLabel("User", { exact: true }).fill(user);
  await page.getByLabel("Password", { exact: true }).fill(`devcloud-${user}`);
  await page.getByLabel("Project").fill(project);
  await page.getByLabel("Domain").fill("Default");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/console\/bays$/);
}

const csrfOf = (page: Page) => page.getAttribute('meta[name="csrf-token"]', "content").then((v) => v ?? "");

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = WAIT_MS): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-console-"));
  mkdirSync(SHOTS, { recursive: true });
  demo = demoCloud();
  // health checks every 2 s, so the list shows a bay's health (the dev cloud's bays: UNKNOWN, their API leads nowhere)
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3", BAYFORGE_SWEEP_SECONDS: "2", BAYFORGE_HEALTH_INTERVAL_SECONDS: "2" } });
  browser = await launchChromium();
  const mk = async (name: string, image: string) => {
    const r = await api(bf.url, "POST", "/v1/clustertemplates", { ...MODEL, name, image_id: image }, V);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.uuid as string;
  };
  okModel = await mk(`${RUN}-ok`, "fedora-atomic");
  brokenModel = await mk(`${RUN}-broken`, "broken-image");
  xssModel = await mk(XSS.template, "fedora-atomic");
  // a failed bay (Heat: its server fails to boot) and one whose labels carry markup, which
  // Heat refuses with a reason that quotes the value
  const failed = await api(bf.url, "POST", "/v1/clusters", { name: `${RUN}-failed`, cluster_template_id: brokenModel, node_count: 1 }, V);
  const xss = await api(bf.url, "POST", "/v1/clusters", { name: `${RUN}-xss`, cluster_template_id: xssModel, node_count: 1, labels: { [XSS.labelKey]: XSS.labelValue, flannel_use_vxlan: XSS.reason } }, V);
  assert.equal(failed.status, 202, JSON.stringify(failed.json));
  assert.equal(xss.status, 202, JSON.stringify(xss.json));
  failedBay = failed.json.uuid;
  xssBay = xss.json.uuid;
});

after(async () => {
  await browser?.close();
  if (bf) {
    for (const id of [failedBay, xssBay]) if (id) await api(bf.url, "DELETE", `/v1/clusters/${id}`).catch(() => {});
    await until("the test's bays to be gone", async () => (await api(bf.url, "GET", "/v1/bays")).json.bays.every((b: any) => !b.name.startsWith(RUN)) || undefined, 120_000).catch(() => {});
    await bf.kill("SIGTERM");
  }
  if (demo) {
    await deleteStacks(demo, RUN);
    await demo.close();
  }
});

describe("the demo user's day in the console", () => {
  let ctx: BrowserContext;
  let w: Watched;
  let bay: string;
  const name = `${RUN}-web`;

  before(async () => {
    ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 800 } });
    w = await watchedPage(ctx);
  });
  after(() => ctx?.close());

  it("a wrong password is refused with a message and no session", async () => {
    await w.page.goto(`${bf.url}/console/sign-in`);
    await w.page.getByLabel("User", { exact: true }).fill("demo");
    await w.page.getByLabel("Password", { exact: true }).fill("wrong");
    await w.page.getByLabel("Project").fill("demo");
    await w.page.getByRole("button", { name: "Sign in" }).click();
    await w.page.getByRole("alert").waitFor();
    assert.match(await w.page.getByRole("alert").innerText(), /Keystone refused these credentials/);
    assert.ok(!(await ctx.cookies()).some((c) => c.name === "bf_console"));
  });

  it("signs in: the token is kept in an HttpOnly, SameSite=Strict cookie scripts cannot read", async () => {
    await signIn(w.page, "demo");
    const session = (await ctx.cookies()).find((c) => c.name === "bf_console");
    assert.ok(session, "session cookie set");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Strict");
    assert.equal(session.path, "/console");
    assert.ok(!session.value.includes(await userToken()), "the cookie does not hold the token in clear");
    assert.equal(await w.page.evaluate(() => (globalThis as any).document.cookie), "");
    const res = await w.page.request.get(`${bf.url}/console/bays`);
    assert.match(res.headers()["content-security-policy"], /script-src 'self'/);
    assert.match(res.headers()["content-security-policy"], /frame-ancestors 'none'/);
  });

  it("creates a bay from a template; the API's own validation message shows next to the field", async () => {
    const p = w.page;
    await p.getByRole("link", { name: "Create", exact: true }).click();
    await p.getByLabel("Name", { exact: true }).fill("9-starts-with-a-digit");
    await p.getByLabel("Template", { exact: true }).selectOption(okModel);
    await p.getByRole("button", { name: "Create" }).click();
    const fieldError = p.locator("#name-error");
    await fieldError.waitFor();
    assert.match(await fieldError.innerText(), /should start with a letter/);
    assert.equal(await p.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
    await p.getByLabel("Name", { exact: true }).fill(name);
    await p.getByLabel("Nodes", { exact: true }).fill("1");
    await p.getByRole("button", { name: "Create" }).click();
    await p.waitForURL(/\/console\/bays\/[0-9a-f-]{36}$/);
    bay = p.url().split("/").pop()!;
    assert.equal(await p.locator("h1").innerText(), `Bay ${name}`);
  });

  it("the bays list shows it reach CREATE_COMPLETE without a reload", async () => {
    assert.ok(bay, "needs the bay created above");
    const p = w.page;
    await p.goto(`${bf.url}/console/bays`);
    await p.evaluate(() => ((globalThis as any).stayedOnPage = true));
    const row = p.locator(`tr[data-uuid="${bay}"]`);
    await row.locator(".status", { hasText: "CREATE_COMPLETE" }).waitFor({ timeout: WAIT_MS });
    assert.equal(await p.evaluate(() => (globalThis as any).stayedOnPage), true, "the page was not reloaded");
    const cells = await row.locator("td").allInnerTexts();
    assert.equal(cells[0], name);
    assert.deepEqual(cells.slice(3, 5), ["1", "1"], "masters and nodes");
    // the status filter
    await p.getByLabel("Status").selectOption("CREATE_FAILED");
    await p.getByRole("button", { name: "Filter" }).click();
    await p.waitForURL(/status=CREATE_FAILED/);
    assert.equal(await p.locator(`tr[data-uuid="${bay}"]`).count(), 0);
    await until("the failed bay to fail", async () => (await api(bf.url, "GET", `/v1/bays/${failedBay}`)).json.status === "CREATE_FAILED", WAIT_MS);
    await p.reload();
    await p.locator(`tr[data-uuid="${failedBay}"]`).waitFor();
    await p.goto(`${bf.url}/console/bays`);
    await p.locator(`tr[data-uuid="${failedBay}"] .status`, { hasText: "CREATE_FAILED" }).waitFor({ timeout: WAIT_MS });
    // the health check's verdict comes live too (Magnum's UNKNOWN: the bay's API cannot be reached here)
    await row.locator("td").nth(2).filter({ hasText: "UNKNOWN" }).waitFor({ timeout: WAIT_MS });
    await p.screenshot({ path: join(SHOTS, "bays.png") });
  });

  it("the bay's page shows its fields and a timeline of its steps", async () => {
    assert.ok(bay, "needs the bay created above");
    const p = w.page;
    await p.locator(`tr[data-uuid="${bay}"] a`).click();
    await p.waitForURL(new RegExp(`/console/bays/${bay}$`));
    const svg = p.locator("figure.timeline svg");
    await svg.waitFor();
    const bars = await p.locator("figure.timeline g.bar text[text-anchor=end]").allTextContents();
    for (const step of ["certificates", "credentials", "stack_requested", "completed"]) assert.ok(bars.includes(step), `timeline bar ${step} in ${bars}`);
    // Heat's resources, from Heat's events read with the user's token
    for (const resource of ["kube_masters", "kube_minions", "private_network"]) assert.ok(bars.includes(resource), `Heat resource ${resource} in ${bars}`);
    assert.equal(await p.locator("figure.timeline text.group").textContent(), "Heat resources");
    assert.match(await p.locator('[data-field="api_address"]').innerText(), /\S/);
    await p.locator("figure.timeline").screenshot({ path: join(SHOTS, "timeline-complete.png") });

    const failed = await watchedPage(ctx);
    await failed.page.goto(`${bf.url}/console/bays/${failedBay}`);
    const faults = await failed.page.locator("table.faults tbody tr").count();
    assert.ok(faults > 0, "Heat's failed resources are listed");
    const red = await failed.page.locator('figure.timeline g.bar:has(rect[fill="#c62828"]) text[text-anchor=end]').allTextContents();
    assert.ok(red.includes("kube_masters"), `the failed resource group is a red bar on the timeline (${red})`);
    assert.ok((await failed.page.locator("figure.timeline g.bar text", { hasText: "failed" }).count()) > 0);
    await failed.page.locator("figure.timeline").screenshot({ path: join(SHOTS, "timeline-failed.png") });
    await failed.page.close();
  });

  it("scales the bay from its page and sees UPDATE_COMPLETE with 2 nodes", async () => {
    assert.ok(bay, "needs the bay created above");
    const p = w.page;
    await p.getByLabel("Nodes", { exact: true }).fill("2");
    await p.getByRole("button", { name: "Scale" }).click();
    await p.waitForURL(/done=scaling/);
    await p.locator('[data-field="status"]', { hasText: "UPDATE_COMPLETE" }).waitFor({ timeout: WAIT_MS });
    await until("node count 2 on the page", async () => (await p.locator('[data-field="node_count"]').innerText()) === "2", 30_000);
    assert.equal((await api(bf.url, "GET", `/v1/bays/${bay}`)).json.node_count, 2);
  });

  it("downloads a kubeconfig whose key never left the browser and whose certificate the bay's CA signed", async () => {
    assert.ok(bay, "needs the bay created above");
    const p = w.page;
    await p.reload();
    const sent: string[] = [];
    p.on("request", (r) => sent.push(r.postData() ?? ""));
    const [download] = await Promise.all([p.waitForEvent("download"), p.getByRole("button", { name: "Download kubeconfig" }).click()]);
    const file = join(dir, "kubeconfig.yaml");
    await download.saveAs(file);
    const kc = load(readFileSync(file, "utf8")) as any;
    const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
    const ca = b64(kc.clusters[0].cluster["certificate-authority-data"]);
    const cert = b64(kc.users[0].user["client-certificate-data"]);
    const key = b64(kc.users[0].user["client-key-data"]);
    assert.equal(kc.clusters[0].name, name);
    assert.equal(kc["current-context"], "default");
    assert.equal(ca, (await api(bf.url, "GET", `/v1/certificates/${bay}`)).json.pem, "the CA is the bay's");
    assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
    assert.ok(sent.some((b) => b.includes("CERTIFICATE REQUEST")), "a CSR was sent");
    assert.ok(!sent.some((b) => b.includes("PRIVATE KEY")), "the private key was not sent");
    writeFileSync(join(dir, "ca.pem"), ca);
    writeFileSync(join(dir, "cert.pem"), cert);
    writeFileSync(join(dir, "key.pem"), key);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, encoding: "utf8" });
    assert.match(openssl("verify", "-CAfile", "ca.pem", "cert.pem"), /cert\.pem: OK/);
    assert.match(openssl("x509", "-in", "cert.pem", "-noout", "-subject"), /O ?= ?system:masters, CN ?= ?admin/);
    assert.equal(openssl("pkey", "-in", "key.pem", "-pubout"), openssl("x509", "-in", "cert.pem", "-noout", "-pubkey"), "the key is the certificate's");
  });

  it("reads at phone width (375 px) without sideways scrolling", async () => {
    assert.ok(bay, "needs the bay created above");
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, storageState: await ctx.storageState() });
    const p = await phone.newPage();
    for (const path of ["/console/bays", `/console/bays/${bay}`, "/console/bays/new", "/console/templates"]) {
      await p.goto(bf.url + path);
      const width = await p.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
      assert.ok(width <= 375, `${path} is ${width} px wide`);
    }
    await phone.close();
  });

  it("every control is reachable with the keyboard", async () => {
    assert.ok(bay, "needs the bay created above");
    const p = w.page;
    await p.goto(`${bf.url}/console/bays/${bay}`);
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await p.keyboard.press("Tab");
      reached.add(await p.evaluate(() => { const e = (globalThis as any).document.activeElement; return e ? `${e.tagName}:${e.id || e.textContent?.trim()}` : ""; }));
    }
    for (const want of ["INPUT:node_count", "BUTTON:Scale", "BUTTON:Rotate CA", "INPUT:confirm", "BUTTON:Delete", "BUTTON:kubeconfig", "BUTTON:Sign out"]) assert.ok(reached.has(want), `${want} reachable by Tab (${[...reached].join(", ")})`);
  });

  it("deletes the bay from its page", async () => {
    assert.ok(bay, "needs the bay created above");
    const p = w.page;
    await p.goto(`${bf.url}/console/bays/${bay}`);
    await p.getByLabel("Yes, delete this bay").check();
    await p.getByRole("button", { name: "Delete" }).click();
    await p.waitForURL(/\/console\/bays$/);
    await until("the bay to be gone", async () => (await api(bf.url, "GET", `/v1/bays/${bay}`)).status === 404);
  });

  it("signs out; the old cookie then gets only a redirect to sign-in", async () => {
    const p = w.page;
    const old = await ctx.cookies();
    const csrf = await csrfOf(p);
    await p.getByRole("button", { name: "Sign out" }).click();
    await p.waitForURL(/\/console\/sign-in$/);
    assert.ok(!(await ctx.cookies()).some((c) => c.name === "bf_console"), "the browser's cookie is cleared");
    for (const path of ["/console/bays", `/console/bays/${failedBay}`, "/console/templates", `/console/templates/${okModel}`, "/console/bays/new"]) {
      const r = await raw(old, "GET", path);
      assert.equal(r.status, 303, path);
      assert.equal(r.location, "/console/sign-in", path);
      assert.ok(!r.text.includes(RUN), `${path} shows nothing`);
    }
    assert.equal((await raw(old, "GET", "/console/bays.json")).status, 401);
    const before = (await api(bf.url, "GET", `/v1/bays/${failedBay}`)).json;
    const post = await raw(old, "POST", `/console/bays/${failedBay}/delete`, { csrf, confirm: "yes" });
    assert.equal(post.status, 303);
    assert.equal(post.location, "/console/sign-in");
    const afterwards = (await api(bf.url, "GET", `/v1/bays/${failedBay}`)).json;
    assert.equal(afterwards.status, before.status, "nothing was done with the old cookie");
  });
});

describe("hostile names, labels and reasons render as text", () => {
  it("on every page: no dialog, the markup shown literally", async () => {
    const reason = await until("the XSS bay to fail", async () => {
      const b = (await api(bf.url, "GET", `/v1/bays/${xssBay}`)).json;
      return b.status === "CREATE_FAILED" && b.status_reason;
    });
    assert.ok(reason.includes(XSS.reason), `Heat's reason quotes the label value: ${reason}`);
    // a bay's own name cannot carry markup: the API refuses it
    assert.equal((await api(bf.url, "POST", "/v1/clusters", { name: "<script>x</script>", cluster_template_id: okModel }, V)).status, 400);
    const ctx = await browser.newContext();
    const w = await watchedPage(ctx);
    await signIn(w.page, "demo");
    const pages: Array<[string, string[]]> = [
      ["/console/bays", [`${RUN}-xss`]],
      [`/console/bays/${xssBay}`, [XSS.labelKey, XSS.labelValue, XSS.reason, `${RUN}-xss`]],
      ["/console/templates", [XSS.template]],
      [`/console/templates/${xssModel}`, [XSS.template]],
    ];
    for (const [path, texts] of pages) {
      await w.page.goto(bf.url + path);
      const body = await w.page.locator("body").innerText();
      for (const t of texts) assert.ok(body.includes(t), `${path} shows ${t} as text`);
      assert.equal(await w.page.locator("main script, main img, main i, main b, main svg:not(figure.timeline svg), main svg[onload]").count(), 0, `${path}: no element made from the payloads`);
    }
    // the template's name in the create form's choices
    await w.page.goto(`${bf.url}/console/bays/new`);
    assert.ok((await w.page.locator("#cluster_template_id option").allInnerTexts()).includes(XSS.template));
    // the live list, rebuilt by the script from JSON, stays text too
    await w.page.goto(`${bf.url}/console/bays`);
    await w.page.locator("#bay-list-updated", { hasText: "Updated" }).waitFor({ timeout: 20_000 });
    assert.equal(await w.page.locator("main img, main script").count(), 0);
    assert.deepEqual(w.dialogs, [], "no payload ran");
    assert.deepEqual(w.cspErrors, [], "the console's own pages break none of its CSP");
    await ctx.close();
  });
});

describe("batches", () => {
  it("a manifest with mistakes lists every problem with its path; a good one shows each bay's progress", async () => {
    const ctx = await browser.newContext();
    const w = await watchedPage(ctx);
    await signIn(w.page, "demo");
    await w.page.getByRole("link", { name: "Batches" }).click();
    await w.page.getByLabel("Or paste it").fill("bays:\n  - name: ok\n    baymodel: nope\n  - baymodel: x\n    node_count: 0\n");
    await w.page.getByRole("button", { name: "Apply" }).click();
    const problems = await w.page.locator("table.problems tbody tr").allInnerTexts();
    assert.ok(problems.some((r) => /bays\[0\]\.baymodel\s+baymodel 'nope'/.test(r)), problems.join("\n"));
    assert.ok(problems.some((r) => /bays\[1\]\s+missing name/.test(r)), problems.join("\n"));
    const manifest = join(dir, "bays.yaml");
    writeFileSync(manifest, `bays:\n  - name: ${RUN}-batch\n    baymodel: ${RUN}-ok\n    node_count: 1\n`);
    await w.page.getByLabel("Manifest file (YAML or JSON)").setInputFiles(manifest);
    await w.page.getByLabel("Or paste it").fill("");
    await w.page.getByRole("button", { name: "Apply" }).click();
    await w.page.waitForURL(/\/console\/batches\/[0-9a-f-]{36}$/);
    batchId = w.page.url().split("/").pop();
    await w.page.locator("#batch-items .status", { hasText: "CREATE_COMPLETE" }).waitFor({ timeout: WAIT_MS });
    assert.match(await w.page.locator("#batch-summary").innerText(), /1 complete/);
    await w.page.locator("#batch-items a", { hasText: `${RUN}-batch` }).click();
    await w.page.waitForURL(/\/console\/bays\//);
    await w.page.getByLabel("Yes, delete this bay").check();
    await w.page.getByRole("button", { name: "Delete" }).click();
    await w.page.waitForURL(/\/console\/bays$/);
    await ctx.close();
  });
});

describe("isolation and CSRF", () => {
  let ctx1: BrowserContext;
  let ctx2: BrowserContext;
  let csrf1: string;
  let csrf2: string;
  const snapshot = async () => {
    const bays = (await api(bf.url, "GET", "/v1/bays/detail")).json.bays.map((b: any) => `${b.uuid}:${b.status}:${b.node_count}`).sort();
    const ca = (await api(bf.url, "GET", `/v1/certificates/${xssBay}`)).json.pem;
    return { bays, ca };
  };

  before(async () => {
    ctx1 = await browser.newContext();
    ctx2 = await browser.newContext();
    const p1 = await ctx1.newPage();
    const p2 = await ctx2.newPage();
    await signIn(p1, "demo");
    await signIn(p2, "demo2");
    csrf1 = await csrfOf(p1);
    csrf2 = await csrfOf(p2);
  });
  after(async () => {
    await ctx1?.close();
    await ctx2?.close();
  });

  it("demo2 sees none of demo's bays, templates or batches on any console route, and can act on none", async () => {
    const cookies = await ctx2.cookies();
    const before = await snapshot();
    const secret = [RUN, xssBay, failedBay, okModel, xssModel];
    // a 404's message may quote the id asked for; nothing else of demo's may appear
    const gets = [
      "/console/bays", "/console/bays.json", `/console/bays?status=CREATE_FAILED`, "/console/bays/new", "/console/templates",
      `/console/bays/${xssBay}`, `/console/bays/${xssBay}/state.json`, `/console/bays/${failedBay}`,
      `/console/templates/${okModel}`, `/console/templates/${xssModel}`,
      ...(batchId ? [`/console/batches/${batchId}`, `/console/batches/${batchId}/state.json`] : []),
    ];
    for (const path of gets) {
      const r = await raw(cookies, "GET", path);
      assert.ok([200, 404].includes(r.status), `${path}: ${r.status}`);
      for (const s of secret) assert.ok(!r.text.includes(s) || (r.status === 404 && path.includes(s)), `${path} leaks ${s}`);
      if (path.includes(xssBay) || path.includes(failedBay) || path.includes(okModel) || path.includes(xssModel) || (batchId && path.includes(batchId))) assert.equal(r.status, 404, path);
    }
    const posts: Array<[string, Record<string, string> | string, Record<string, string>?]> = [
      [`/console/bays/${xssBay}/scale`, { csrf: csrf2, node_count: "3" }],
      [`/console/bays/${xssBay}/rotate-ca`, { csrf: csrf2 }],
      [`/console/bays/${xssBay}/delete`, { csrf: csrf2, confirm: "yes" }],
      [`/console/bays/${failedBay}/delete`, { csrf: csrf2, confirm: "yes" }],
      [`/console/bays/${xssBay}/kubeconfig`, JSON.stringify({ csr: "-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----\n" }), { "content-type": "application/json", "x-csrf-token": csrf2 }],
      ["/console/bays", { csrf: csrf2, name: `${RUN}-stolen`, cluster_template_id: okModel, node_count: "1" }],
    ];
    for (const [path, body, headers] of posts) {
      const r = await raw(cookies, "POST", path, body, headers);
      assert.ok([400, 404].includes(r.status), `${path}: ${r.status}`);
      for (const s of [xssBay, failedBay, `${RUN}-xss`, `${RUN}-failed`]) assert.ok(!r.text.includes(s) || path.includes(s), `${path} leaks ${s}`);
    }
    assert.deepEqual(await snapshot(), before, "nothing of demo's changed");
    const theirs = (await api(bf.url, "GET", "/v1/bays", undefined, { "x-auth-token": await userToken("devcloud-demo2") })).json.bays;
    assert.ok(!theirs.some((b: any) => b.name.startsWith(RUN)), "demo2 made no bay from demo's template");
  });

  it("an admin sees every project's bays, as the API shows them to an admin", async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await signIn(p, "admin");
    const names = await p.locator("#bay-list tbody td:first-child").allInnerTexts();
    assert.ok(names.includes(`${RUN}-xss`) && names.includes(`${RUN}-failed`), `demo's bays on the admin's list: ${names}`);
    await p.goto(`${bf.url}/console/bays/${xssBay}`);
    assert.equal(await p.locator("h1").innerText(), `Bay ${RUN}-xss`);
    await ctx.close();
  });

  it("every POST without the session's CSRF token is refused with 403 and nothing is written", async () => {
    const cookies = await ctx1.cookies();
    const before = await snapshot();
    const forms: Array<[string, Record<string, string>]> = [
      [`/console/bays/${xssBay}/scale`, { node_count: "3" }],
      [`/console/bays/${xssBay}/rotate-ca`, {}],
      [`/console/bays/${failedBay}/delete`, { confirm: "yes" }],
      ["/console/bays", { name: `${RUN}-csrf`, cluster_template_id: okModel, node_count: "1" }],
      ["/console/batches", { manifest: `bays:\n  - name: ${RUN}-csrf2\n    baymodel: ${RUN}-ok\n` }],
      ["/console/sign-out", {}],
    ];
    for (const [path, fields] of forms) {
      for (const csrf of [undefined, "wrong", csrf2]) {
        const r = await raw(cookies, "POST", path, csrf === undefined ? fields : { ...fields, csrf });
        assert.equal(r.status, 403, `${path} with csrf ${csrf}`);
      }
    }
    for (const header of [{}, { "x-csrf-token": "wrong" }] as Array<Record<string, string>>) {
      const r = await raw(cookies, "POST", `/console/bays/${xssBay}/kubeconfig`, JSON.stringify({ csr: "x" }), { "content-type": "application/json", ...header });
      assert.equal(r.status, 403);
    }
    // sign-in itself needs the form's own token (login CSRF)
    assert.equal((await raw([], "POST", "/console/sign-in", { username: "demo", password: "devcloud-demo", project: "demo", domain: "Default" })).status, 403);
    assert.deepEqual(await snapshot(), before, "nothing was written");
    // the refused sign-out left the session working
    const still = await raw(cookies, "GET", "/console/bays");
    assert.equal(still.status, 200);
    assert.ok(still.text.includes(`${RUN}-xss`));
    // and with the token, the same session acts
    const ok = await raw(cookies, "POST", `/console/bays/${xssBay}/rotate-ca`, { csrf: csrf1 });
    assert.ok([303, 400, 409].includes(ok.status), `rotate with the token: ${ok.status}`);
  });
});
