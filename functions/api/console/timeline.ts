// A bay's timeline as inline SVG, rendered on the server from what the API records: the
// bay's events (each bar runs from one event to the next and is named by the step that ended
// it, so a long bar is a slow step) and Heat's failed resources (red marks at their time).
import { html } from "hono/html";
import type { Html } from "./layout.ts";

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
const ROW = 26;
const TOP = 30;
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
  kind === "failed" ? "#c62828" : kind === "completed" || kind === "deleted" ? "#2e7d32" : kind === "retry" ? "#ef6c00" : "#1565c0";

export function timeline(events: TimelineEvent[], faults: TimelineFault[], inProgress: boolean, now = Date.now()): Html {
  const evs = events.map((e) => ({ ...e, t: Date.parse(e.at) })).filter((e) => !Number.isNaN(e.t)).sort((a, b) => a.t - b.t);
  if (!evs.length) return html`<p>No events recorded for this bay yet.</p>`;
  const bars = evs.slice(1).map((e, i) => ({ from: evs[i].t, to: e.t, kind: e.kind, detail: e.detail }));
  const last = evs[evs.length - 1];
  if (inProgress) bars.push({ from: last.t, to: Math.max(now, last.t), kind: "in progress", detail: `waiting since ${last.kind}` });
  const marks = faults.map((f) => ({ ...f, t: f.time ? Date.parse(f.time) : NaN })).filter((f) => !Number.isNaN(f.t));
  const t0 = evs[0].t;
  const t1 = Math.max(t0 + 1000, ...bars.map((b) => b.to), ...marks.map((m) => m.t));
  const span = t1 - t0;
  const x = (t: number) => LABEL + ((t - t0) / span) * (W - LABEL - 10);
  const rows = bars.length + marks.length;
  const height = TOP + rows * ROW + 10;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ x: LABEL + f * (W - LABEL - 10), text: duration(f * span) }));
  return html`<figure class="timeline">
<svg role="img" aria-labelledby="tl-title" viewBox="0 0 ${W} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title id="tl-title">Timeline of the bay: ${bars.length} steps over ${duration(span)}${marks.length ? `, ${marks.length} failed resources` : ""}</title>
${ticks.map((t) => html`<line x1="${t.x}" y1="${TOP - 8}" x2="${t.x}" y2="${height - 6}" stroke="#ccc"/><text x="${t.x}" y="${TOP - 12}" font-size="11" text-anchor="middle" fill="#555">${t.text}</text>`)}
${bars.map((b, i) => {
  const y = TOP + i * ROW;
  const bx = x(b.from);
  const bw = Math.max(2, x(b.to) - bx);
  return html`<g class="bar"><title>${cut(`${b.kind}: ${duration(b.to - b.from)} — ${b.detail}`)}</title>
<text x="${LABEL - 6}" y="${y + 15}" font-size="12" text-anchor="end" fill="#222">${cut(b.kind, 26)}</text>
<rect x="${bx.toFixed(1)}" y="${y + 3}" width="${bw.toFixed(1)}" height="${ROW - 8}" rx="3" fill="${colour(b.kind)}"/>
<text x="${Math.min(bx + bw + 4, W - 60).toFixed(1)}" y="${y + 15}" font-size="11" fill="#222">${duration(b.to - b.from)}</text></g>`;
})}
${marks.map((m, i) => {
  const y = TOP + (bars.length + i) * ROW;
  const mx = x(m.t);
  return html`<g class="fault"><title>${cut(`${m.resource} (${m.type}) failed: ${m.reason ?? ""}`)}</title>
<text x="${LABEL - 6}" y="${y + 15}" font-size="12" text-anchor="end" fill="#c62828">${cut(m.resource, 26)}</text>
<path d="M${mx.toFixed(1)} ${y + 3} l7 8 l-7 8 l-7 -8 z" fill="#c62828"/></g>`;
})}
</svg>
<figcaption>Each bar runs from one recorded step to the next and is named by the step that ended it; red diamonds are Heat resources that failed.</figcaption>
</figure>
<div class="scroll"><table class="steps"><caption>Steps</caption><thead><tr><th scope="col">Step</th><th scope="col">At</th><th scope="col">Took</th><th scope="col">Detail</th></tr></thead><tbody>
${evs.map((e, i) => html`<tr><td>${e.kind}</td><td>${e.at}</td><td>${i ? duration(e.t - evs[i - 1].t) : ""}</td><td>${cut(e.detail, 2000)}</td></tr>`)}
</tbody></table></div>`;
}
