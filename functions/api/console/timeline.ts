// A bay's timeline as inline SVG, rendered on the server from what Bayforge and Heat record:
// Bayforge's steps (each bar runs from one event of the bay to the next and is named by the
// step that ended it, so a long bar is a slow step), then Heat's resources (each from its
// *_IN_PROGRESS event to its *_COMPLETE or *_FAILED one, read from Heat's events with the
// person's token), on one time axis. Without Heat's events, failed resources (the bay's
// faults) are red marks at their time.
import { html } from "hono/html";
import type { Html } from "./layout.ts";
import type { ResourceSpan } from "../../../shared/ports/stack-history.ts";

export interface TimelineEvent {
  at: string;
  kind: string;
  detail: string;
}
export interface TimelineFault {
  resource: string;
  type: string;
  reason: string | null;
  time: string | null;
}

const W = 760;
const LABEL = 210;
const RIGHT = 10;
const ROW = 24;
const TOP = 30;
/** resource rows drawn at most (the longest); every span is in the table below the chart */
const MAX_SPANS = 40;
/** the longest text put in a label or a tooltip */
const CUT = 300;
const cut = (s: string, n = CUT) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function duration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const colour = (kind: string) =>
  /failed/i.test(kind) ? "#c62828" : kind === "completed" || kind === "deleted" ? "#2e7d32" : kind === "retry" ? "#ef6c00" : /COMPLETE$/.test(kind) ? "#00897b" : "#1565c0";

interface Bar {
  label: string;
  from: number;
  to: number;
  colour: string;
  tip: string;
}

/** A resource group's member ("0" in the stack `<bay>-kube_masters-<suffix>`) as `kube_masters[0]`. */
function resourceLabel(s: ResourceSpan): string {
  if (!/^\d+$/.test(s.resource)) return s.resource;
  const group = /-([A-Za-z][A-Za-z0-9_]*)-[a-z0-9]{12}$/.exec(s.stack)?.[1];
  return group ? `${group}[${s.resource}]` : s.resource;
}

export function timeline(events: TimelineEvent[], faults: TimelineFault[], inProgress: boolean, spans: ResourceSpan[] = [], now = Date.now()): Html {
  const evs = events.map((e) => ({ ...e, t: Date.parse(e.at) })).filter((e) => !Number.isNaN(e.t)).sort((a, b) => a.t - b.t);
  if (!evs.length) return html`<p>No events recorded for this bay yet.</p>`;
  // the time before a new request (scale, delete) is the bay sitting idle, not a slow step: grey
  const steps: Bar[] = evs.slice(1).map((e, i) => {
    const idle = /_accepted$/.test(e.kind);
    return { label: e.kind, from: evs[i].t, to: e.t, colour: idle ? "#bdbdbd" : colour(e.kind), tip: idle ? `idle until: ${e.detail}` : e.detail };
  });
  const last = evs[evs.length - 1];
  if (inProgress) steps.push({ label: "in progress", from: last.t, to: Math.max(now, last.t), colour: colour(""), tip: `waiting since ${last.kind}` });
  const all = spans
    .map((s) => ({ s, from: Date.parse(s.start), to: s.end ? Date.parse(s.end) : now }))
    .filter((x) => !Number.isNaN(x.from) && !Number.isNaN(x.to));
  const shown = [...all].sort((a, b) => b.to - b.from - (a.to - a.from)).slice(0, MAX_SPANS).sort((a, b) => a.from - b.from);
  const resources: Bar[] = shown.map(({ s, from, to }) => ({ label: resourceLabel(s), from, to, colour: colour(s.status), tip: `${s.resource} in ${s.stack}: ${s.status}${s.reason ? ` (${s.reason})` : ""}` }));
  const marks = all.length ? [] : faults.map((f) => ({ ...f, t: f.time ? Date.parse(f.time) : NaN })).filter((f) => !Number.isNaN(f.t));
  const t0 = evs[0].t;
  const t1 = Math.max(t0 + 1000, ...steps.map((b) => b.to), ...resources.map((b) => b.to), ...marks.map((m) => m.t));
  const span = t1 - t0;
  const x = (t: number) => LABEL + ((Math.max(t, t0) - t0) / span) * (W - LABEL - RIGHT);
  const heading = resources.length ? 1 : 0;
  const rows = steps.length + heading + resources.length + marks.length;
  const height = TOP + rows * ROW + 10;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ x: LABEL + f * (W - LABEL - RIGHT), text: duration(f * span) }));
  const bar = (b: Bar, row: number) => {
    const y = TOP + row * ROW;
    const bx = x(b.from);
    const bw = Math.max(2, x(b.to) - bx);
    // the duration after the bar, or inside it (or before it, when short) near the right edge
    const where = bx + bw <= W - 70 ? "after" : bw >= 50 ? "inside" : "before";
    const tx = where === "after" ? bx + bw + 4 : where === "inside" ? bx + bw - 4 : bx - 4;
    return html`<g class="bar"><title>${cut(`${b.label}: ${duration(b.to - b.from)} — ${b.tip}`)}</title>
<text x="${LABEL - 6}" y="${y + 15}" font-size="12" text-anchor="end" fill="#222">${cut(b.label, 28)}</text>
<rect x="${bx.toFixed(1)}" y="${y + 3}" width="${bw.toFixed(1)}" height="${ROW - 7}" rx="3" fill="${b.colour}"/>
<text x="${tx.toFixed(1)}" y="${y + 15}" font-size="11" text-anchor="${where === "after" ? "start" : "end"}" fill="${where === "inside" ? "#fff" : "#222"}">${duration(b.to - b.from)}</text></g>`;
  };
  return html`<figure class="timeline">
<svg role="img" aria-labelledby="tl-title" viewBox="0 0 ${W} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title id="tl-title">Timeline of the bay: ${steps.length} steps${resources.length ? ` and ${resources.length} Heat resources` : ""} over ${duration(span)}${marks.length ? `, ${marks.length} failed resources` : ""}</title>
${ticks.map((t) => html`<line x1="${t.x}" y1="${TOP - 8}" x2="${t.x}" y2="${height - 6}" stroke="#ccc"/><text x="${t.x}" y="${TOP - 12}" font-size="11" text-anchor="middle" fill="#555">${t.text}</text>`)}
${steps.map((b, i) => bar(b, i))}
${heading ? html`<text class="group" x="4" y="${TOP + steps.length * ROW + 16}" font-size="12" font-weight="bold" fill="#16324f">Heat resources</text>` : ""}
${resources.map((b, i) => bar(b, steps.length + heading + i))}
${marks.map((m, i) => {
  const y = TOP + (steps.length + i) * ROW;
  const mx = x(m.t);
  return html`<g class="fault"><title>${cut(`${m.resource} (${m.type}) failed: ${m.reason ?? ""}`)}</title>
<text x="${LABEL - 6}" y="${y + 15}" font-size="12" text-anchor="end" fill="#c62828">${cut(m.resource, 28)}</text>
<path d="M${mx.toFixed(1)} ${y + 3} l7 8 l-7 8 l-7 -8 z" fill="#c62828"/></g>`;
})}
</svg>
<figcaption>Bayforge's steps: each bar runs from one recorded step to the next and is named by the step that ended it (grey: idle until a new request).${resources.length ? ` Heat's resources: from start to completion (failed in red)${all.length > resources.length ? `; the ${resources.length} longest of ${all.length} are drawn` : ""}.` : marks.length ? " Red diamonds are Heat resources that failed." : ""}</figcaption>
</figure>
<div class="scroll"><table class="steps"><caption>Steps</caption><thead><tr><th scope="col">Step</th><th scope="col">At</th><th scope="col">Took</th><th scope="col">Detail</th></tr></thead><tbody>
${evs.map((e, i) => html`<tr><td>${e.kind}</td><td>${e.at}</td><td>${i ? duration(e.t - evs[i - 1].t) : ""}</td><td>${cut(e.detail, 2000)}</td></tr>`)}
</tbody></table></div>
${all.length
  ? html`<details><summary>All ${all.length} Heat resources</summary><div class="scroll"><table class="resources"><thead><tr><th scope="col">Resource</th><th scope="col">Stack</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Reason</th></tr></thead><tbody>
${all.map(({ s, from, to }) => html`<tr><td>${s.resource}</td><td>${s.stack}</td><td>${s.status}</td><td>${s.start}</td><td>${duration(to - from)}</td><td>${cut(s.reason ?? "", 2000)}</td></tr>`)}
</tbody></table></div></details>`
  : ""}`;
}
