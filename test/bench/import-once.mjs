// Child of cold-import.bench.ts: imports one bundle in this fresh process and prints how long
// the import took (plain JS, no tsx loader, so only the bundle is measured).
//   node test/bench/import-once.mjs <file>
import { pathToFileURL } from "node:url";

const start = performance.now();
const mod = await import(pathToFileURL(process.argv[2]).href);
const importMs = performance.now() - start;
process.stdout.write(JSON.stringify({ importMs, exports: Object.keys(mod).sort(), uptimeMs: process.uptime() * 1000 }) + "\n");
