// Shared by the benchmarks: percentiles, and results written to test/bench/results/<name>.json
// with the machine and the date (BENCHMARKS.md is rendered from them by run.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const machine = () => ({ cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAvg1m: Number(loadavg()[0].toFixed(2)) });

export function writeResult(name: string, result: Record<string, unknown>): void {
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ name, date: new Date().toISOString(), machine: machine(), ...result }, null, 2) + "\n");
}
