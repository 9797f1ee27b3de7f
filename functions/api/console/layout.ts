// The console's page shell and small shared pieces. Every value goes through hono's `html`
// tag, which escapes it; nothing tenant-controlled is ever passed to raw().
import { html } from "hono/html";

export type Html = ReturnType<typeof html>;

export interface Viewer {
  user: string;
  project: string;
  csrf: string;
}

/** The hidden CSRF field every form carries. */
export const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;

export function page(title: string, body: Html, viewer?: Viewer): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Bayforge</title>
<link rel="stylesheet" href="/console/static/console.css">
${viewer ? html`<meta name="csrf-token" content="${viewer.csrf}">` : ""}
<script src="/console/static/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<span class="brand">Bayforge</span>
${viewer
  ? html`<nav aria-label="Main"><a href="/console/bays">Bays</a> <a href="/console/bays/new">Create</a> <a href="/console/templates">Templates</a> <a href="/console/batches/new">Batches</a></nav>
<form method="post" action="/console/sign-out" class="who">${csrfField(viewer.csrf)}<span>${viewer.user} · ${viewer.project}</span> <button type="submit">Sign out</button></form>`
  : ""}
</header>
<main id="main">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A status as a badge whose class says in progress / failed / complete. */
export function statusBadge(status: string | null | undefined): Html {
  const s = status ?? "UNKNOWN";
  const kind = s.endsWith("_IN_PROGRESS") ? "progress" : s.endsWith("_FAILED") ? "failed" : "complete";
  return html`<span class="status ${kind}">${s}</span>`;
}

/** "3m", "2h 5m", "4d": how long ago an ISO time was. */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return "";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

export const notice = (text: string | undefined, kind: "error" | "info" = "error") =>
  text ? html`<p class="notice ${kind}" role="${kind === "error" ? "alert" : "status"}">${text}</p>` : "";
