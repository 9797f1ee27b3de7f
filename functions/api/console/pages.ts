// The console's pages, as functions of what the API answered. Every value is escaped by
// hono's `html` tag; tenant-controlled text (names, labels, reasons) is only ever text.
import { html } from "hono/html";
import { BAY_STATUSES } from "../../../shared/domain/status.ts";
import { HEALTH_STATUSES } from "../../../shared/domain/health.ts";
import { age, csrfField, notice, statusBadge, type Html, type Viewer } from "./layout.ts";
import { timeline, type TimelineEvent, type TimelineFault } from "./timeline.ts";
import type { ResourceSpan } from "../../../shared/ports/stack-history.ts";

type Json = Record<string, any>;

export function signInPage(pre: string, error?: string, values: Json = {}): Html {
  return html`${notice(error)}
<form method="post" action="/console/sign-in" class="stack">
<input type="hidden" name="csrf" value="${pre}">
<fieldset><legend>Keystone user</legend>
<label for="username">User</label><input id="username" name="username" type="text" autocomplete="username" value="${values.username ?? ""}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<label for="project">Project</label><input id="project" name="project" type="text" value="${values.project ?? ""}">
<label for="domain">Domain</label><input id="domain" name="domain" type="text" value="${values.domain ?? "Default"}">
</fieldset>
<fieldset><legend>Or an application credential</legend>
<label for="app_cred_id">Application credential ID</label><input id="app_cred_id" name="app_cred_id" type="text" autocomplete="off">
<label for="app_cred_secret">Secret</label><input id="app_cred_secret" name="app_cred_secret" type="password" autocomplete="off">
</fieldset>
<p><button type="submit">Sign in</button></p>
</form>`;
}

export interface BayRow {
  uuid: string;
  name: string;
  status: string;
  health: string;
  master_count: number;
  node_count: number;
  age: string;
}

export function bayRow(c: Json, now = Date.now()): BayRow {
  return {
    uuid: String(c.uuid),
    name: String(c.name ?? ""),
    status: String(c.status ?? ""),
    health: HEALTH_STATUSES.includes(c.health_status) ? c.health_status : "—",
    master_count: c.master_count,
    node_count: c.node_count,
    age: age(c.created_at, now),
  };
}

export function baysPage(rows: BayRow[], status: string | undefined): Html {
  const src = `/console/bays.json${status ? `?status=${encodeURIComponent(status)}` : ""}`;
  return html`<form method="get" action="/console/bays" class="filter">
<label for="status">Status</label>
<select id="status" name="status"><option value="">any</option>${BAY_STATUSES.map((s) => html`<option value="${s}"${s === status ? " selected" : ""}>${s}</option>`)}</select>
<button type="submit">Filter</button> <a href="/console/bays/new">Create a bay</a>
</form>
<p class="muted" aria-live="polite"><span id="bay-list-updated">Live: refreshed every few seconds.</span></p>
<div class="scroll"><table id="bay-list" data-src="${src}"><caption class="muted">Bays${status ? ` with status ${status}` : ""}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Health</th><th scope="col">Masters</th><th scope="col">Nodes</th><th scope="col">Age</th></tr></thead>
<tbody>${rows.map((b) => html`<tr data-uuid="${b.uuid}"><td><a href="/console/bays/${encodeURIComponent(b.uuid)}">${b.name}</a></td><td>${statusBadge(b.status)}</td><td>${b.health}</td><td>${b.master_count}</td><td>${b.node_count}</td><td>${b.age}</td></tr>`)}</tbody>
</table></div>
<p id="bay-list-empty"${rows.length ? " hidden" : ""}>No bays${status ? " with this status" : ""}.</p>`;
}

const list = (xs: unknown) => (Array.isArray(xs) && xs.length ? xs.map(String).join(", ") : "—");
const text = (v: unknown) => (v === null || v === undefined || v === "" ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** The health check's reason map ({api: "ok", "<node>.Ready": "False"}), already bounded by the worker. */
const healthReason = (r: unknown) => {
  const entries = r && typeof r === "object" && !Array.isArray(r) ? Object.entries(r as Record<string, unknown>) : [];
  return entries.length ? html` <span class="muted">(${entries.map(([k, val]) => `${k}: ${String(val)}`).join(", ")})</span>` : "";
};

export interface DetailData {
  cluster: Json;
  faults: TimelineFault[];
  events: TimelineEvent[];
  spans?: ResourceSpan[];
  error?: string;
  info?: string;
}

export function bayPage(d: DetailData, v: Viewer): Html {
  const c = d.cluster;
  const id = encodeURIComponent(String(c.uuid));
  const labels = Object.entries((c.labels ?? {}) as Record<string, unknown>);
  const busy = String(c.status).endsWith("_IN_PROGRESS");
  const ready = c.status === "CREATE_COMPLETE" || c.status === "UPDATE_COMPLETE";
  return html`${notice(d.error)}${notice(d.info, "info")}
<section id="bay-state" data-src="/console/bays/${id}/state.json" aria-live="polite">
<dl class="fields">
<dt>Name</dt><dd>${c.name}</dd>
<dt>UUID</dt><dd>${c.uuid}</dd>
<dt>Status</dt><dd data-field="status">${statusBadge(c.status)}</dd>
<dt>Reason</dt><dd data-field="status_reason">${c.status_reason ?? ""}</dd>
<dt>Health</dt><dd>${HEALTH_STATUSES.includes(c.health_status) ? c.health_status : "—"}${healthReason(c.health_status_reason)}</dd>
<dt>Kubernetes</dt><dd>${text(c.coe_version)}</dd>
<dt>Template</dt><dd><a href="/console/templates/${encodeURIComponent(String(c.cluster_template_id))}">${c.cluster_template_id}</a></dd>
<dt>Masters</dt><dd data-field="master_count">${c.master_count}</dd>
<dt>Nodes</dt><dd data-field="node_count">${c.node_count}</dd>
<dt>API address</dt><dd data-field="api_address">${c.api_address ?? ""}</dd>
<dt>Master addresses</dt><dd>${list(c.master_addresses)}</dd>
<dt>Node addresses</dt><dd>${list(c.node_addresses)}</dd>
<dt>Keypair</dt><dd>${text(c.keypair)}</dd>
<dt>Stack</dt><dd>${text(c.cluster_id)}</dd>
<dt>Discovery URL</dt><dd>${text(c.discovery_url)}</dd>
<dt>Create timeout</dt><dd>${text(c.create_timeout)} min</dd>
<dt>Project</dt><dd>${text(c.project_id)}</dd>
<dt>Created</dt><dd>${text(c.created_at)}</dd>
<dt>Updated</dt><dd>${text(c.updated_at)}</dd>
</dl>
</section>
<h2>Labels</h2>
${labels.length ? html`<div class="scroll"><table class="labels"><thead><tr><th scope="col">Label</th><th scope="col">Value</th></tr></thead><tbody>${labels.map(([k, val]) => html`<tr><td>${k}</td><td>${text(val)}</td></tr>`)}</tbody></table></div>` : html`<p>None.</p>`}
<h2>Faults</h2>
${d.faults.length ? html`<div class="scroll"><table class="faults"><thead><tr><th scope="col">Resource</th><th scope="col">Type</th><th scope="col">Reason</th><th scope="col">At</th></tr></thead><tbody>${d.faults.map((f) => html`<tr><td>${f.resource}</td><td>${f.type}</td><td>${f.reason ?? ""}</td><td>${f.time ?? ""}</td></tr>`)}</tbody></table></div>` : html`<p>None.</p>`}
<h2>Actions</h2>
<div class="actions">
<form method="post" action="/console/bays/${id}/scale">${csrfField(v.csrf)}
<label for="node_count">Nodes</label> <input id="node_count" name="node_count" type="number" min="0" required value="${c.node_count}"> <button type="submit">Scale</button></form>
<form method="post" action="/console/bays/${id}/rotate-ca">${csrfField(v.csrf)}<button type="submit">Rotate CA</button></form>
<form method="post" action="/console/bays/${id}/delete">${csrfField(v.csrf)}
<input id="confirm" name="confirm" type="checkbox" value="yes" required> <label for="confirm">Yes, delete this bay</label> <button type="submit" class="danger">Delete</button></form>
<div><button type="button" id="kubeconfig" data-src="/console/bays/${id}/kubeconfig"${ready ? "" : " disabled"}>Download kubeconfig</button>
<p id="kubeconfig-status" class="muted" aria-live="polite">${ready ? "The key pair is made in this browser; only a signing request is sent." : "Available once the bay is complete."}</p></div>
</div>
<h2 id="timeline">Timeline</h2>
<p id="timeline-note" class="muted" aria-live="polite"></p>
${timeline(d.events, d.faults, busy, d.spans ?? [])}`;
}

/** Cluster create fields as the form names them (the API's own names). */
export const CREATE_FIELDS = ["name", "cluster_template_id", "master_count", "node_count", "keypair", "create_timeout", "labels"] as const;

export function createPage(templates: Json[], v: Viewer, values: Json = {}, errors: Partial<Record<string, string>> = {}, general?: string): Html {
  const err = (f: string) => (errors[f] ? html`<p class="field-error" id="${f}-error">${errors[f]}</p>` : "");
  const described = (f: string) => (errors[f] ? html` aria-describedby="${f}-error" aria-invalid="true"` : "");
  const input = (f: string, label: string, type = "text", extra = "") =>
    html`<label for="${f}">${label}</label><input id="${f}" name="${f}" type="${type}" value="${values[f] ?? ""}"${described(f)}${extra ? html` ${extra}` : ""}>${err(f)}`;
  return html`${notice(general)}
<form method="post" action="/console/bays" class="stack">${csrfField(v.csrf)}
${input("name", "Name")}
<label for="cluster_template_id">Template</label>
<select id="cluster_template_id" name="cluster_template_id"${described("cluster_template_id")}><option value="">choose a template</option>${templates.map((t) => html`<option value="${t.uuid}"${values.cluster_template_id === t.uuid ? " selected" : ""}>${t.name ?? t.uuid}</option>`)}</select>${err("cluster_template_id")}
${input("master_count", "Masters", "number")}
${input("node_count", "Nodes", "number")}
${input("keypair", "Keypair (blank: the template's)")}
${input("create_timeout", "Create timeout, minutes (blank: the default)", "number")}
<label for="labels">Labels, one key=value a line (blank: the template's)</label>
<textarea id="labels" name="labels"${described("labels")}>${values.labels ?? ""}</textarea>${err("labels")}
<p><button type="submit">Create</button></p>
</form>`;
}

export function templatesPage(ts: Json[]): Html {
  return html`<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">COE</th><th scope="col">Image</th><th scope="col">Keypair</th><th scope="col">Flavor</th><th scope="col">Public</th></tr></thead>
<tbody>${ts.map((t) => html`<tr><td><a href="/console/templates/${encodeURIComponent(String(t.uuid))}">${t.name ?? t.uuid}</a></td><td>${t.coe}</td><td>${text(t.image_id)}</td><td>${text(t.keypair_id)}</td><td>${text(t.flavor_id)}</td><td>${t.public ? "yes" : "no"}</td></tr>`)}</tbody></table></div>
${ts.length ? "" : html`<p>No templates.</p>`}`;
}

export function templatePage(t: Json): Html {
  const skip = new Set(["links"]);
  return html`<dl class="fields">${Object.entries(t)
    .filter(([k]) => !skip.has(k))
    .map(([k, val]) => html`<dt>${k}</dt><dd>${text(val)}</dd>`)}</dl>
<p><a href="/console/bays/new?template=${encodeURIComponent(String(t.uuid))}">Create a bay from this template</a></p>`;
}

export interface Problem {
  path: string;
  message: string;
}

export function batchNewPage(v: Viewer, problems: Problem[] = [], general?: string, manifest = ""): Html {
  return html`${notice(general)}
${problems.length ? html`<section role="alert"><h2>${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was applied</h2><table class="problems"><thead><tr><th scope="col">Path</th><th scope="col">Problem</th></tr></thead><tbody>${problems.map((p) => html`<tr><td><code>${p.path}</code></td><td>${p.message}</td></tr>`)}</tbody></table></section>` : ""}
<form method="post" action="/console/batches" enctype="multipart/form-data" class="stack">${csrfField(v.csrf)}
<label for="file">Manifest file (YAML or JSON)</label><input id="file" name="file" type="file" accept=".yaml,.yml,.json,application/yaml,application/json">
<label for="manifest">Or paste it</label><textarea id="manifest" name="manifest">${manifest}</textarea>
<p><button type="submit">Apply</button></p>
</form>`;
}

export const batchSummary = (b: Json) => {
  const s = b.summary ?? {};
  return `${b.done ? "Done" : "Applying"}: ${s.total ?? 0} bays; ${s.complete ?? 0} complete, ${s.in_progress ?? 0} in progress, ${s.failed ?? 0} failed (created ${s.create ?? 0}, scaled ${s.scale ?? 0}, unchanged ${s.unchanged ?? 0}, pending ${s.pending ?? 0}).`;
};

export function batchPage(b: Json): Html {
  return html`<p id="batch-summary" aria-live="polite">${batchSummary(b)}</p>
<div class="scroll"><table id="batch-items" data-src="/console/batches/${encodeURIComponent(String(b.uuid))}/state.json"><thead><tr><th scope="col">Bay</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead>
<tbody>${(b.bays as Json[]).map((it) => html`<tr><td>${it.bay_uuid ? html`<a href="/console/bays/${encodeURIComponent(String(it.bay_uuid))}">${it.name}</a>` : it.name}</td><td>${it.action}</td><td>${it.status ? statusBadge(it.status) : ""}</td><td>${it.reason ?? it.status_reason ?? ""}</td></tr>`)}</tbody></table></div>`;
}

export function messagePage(text: string): Html {
  return html`<p>${text}</p><p><a href="/console/bays">Back to the bays</a></p>`;
}
