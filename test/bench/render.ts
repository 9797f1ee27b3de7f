// BENCHMARKS.md from test/bench/results/*.json: one section per benchmark with what was
// measured, where and when, its figures, and each goal marked met or MISSED (never hidden).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type Json = Record<string, unknown>;

/** goals on times, sizes and calls per bay are upper bounds, the others (throughput) lower bounds */
function verdicts(figures: Json, goal: Json | undefined): string[] {
  if (!goal) return [];
  return Object.entries(goal).map(([k, want]) => {
    const got = figures[k];
    if (typeof got !== "number" || typeof want !== "number") return `- ${k}: goal ${want}, measured ${JSON.stringify(got)}`;
    const upper = /ms$|KB$|bytes$|seconds$|perbay$|mib$/i.test(k);
    const ok = upper ? got <= want : got >= want;
    return `- ${k}: measured **${got}**, goal ${upper ? "≤" : "≥"} ${want} → ${ok ? "met" : "**MISSED**"}`;
  });
}

export function renderBenchmarks(resultsDir: string, out: string): void {
  if (!existsSync(resultsDir)) return;
  const parts = ["# Benchmarks", "", "Written by `npm run bench` from `test/bench/results/*.json`. Goals are from the project's issues; a missed goal is marked **MISSED** with the measured figure.", ""];
  for (const f of readdirSync(resultsDir).filter((x) => x.endsWith(".json")).sort()) {
    const r = JSON.parse(readFileSync(join(resultsDir, f), "utf8")) as Json;
    const { name, date, machine, what, goal, runs, ...figures } = r;
    parts.push(`## ${name ?? f}`, "");
    if (what) parts.push(String(what), "");
    parts.push(`Measured ${date ?? "?"} on ${JSON.stringify(machine ?? {})}.`, "");
    if (Array.isArray(runs)) {
      for (const run of runs as Json[]) {
        const { what: _w, goal: g, ...fig } = run;
        parts.push(`- run ${JSON.stringify(fig)}`, ...verdicts(fig, (g as Json) ?? (goal as Json)).map((l) => `  ${l}`));
      }
      parts.push("");
    } else {
      parts.push("```json", JSON.stringify(figures, null, 2), "```", "", ...verdicts(figures, goal as Json), "");
    }
  }
  const notes = join(resultsDir, "..", "NOTES.md");
  if (existsSync(notes)) parts.push(readFileSync(notes, "utf8"));
  writeFileSync(out, parts.join("\n"));
}
