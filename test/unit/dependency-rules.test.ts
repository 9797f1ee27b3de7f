// The layering rules of .dependency-cruiser.cjs, which `npm test` runs on the whole tree
// (npm run lint:deps): each one is shown failing on a forbidden import in a small tree of
// its own, and passing on the imports the design allows, so a rule that silently stops
// matching (a renamed folder, a changed regex) fails here.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { cruise } from "dependency-cruiser";

const require = createRequire(import.meta.url);
const config = require("../../.dependency-cruiser.cjs") as { forbidden: unknown[] };

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The rules' violations in a tree of `files` (path → source), as `rule: from → to`. */
async function violations(files: Record<string, string>): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), "bf-deprules-"));
  dirs.push(root);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  const tops = [...new Set(Object.keys(files).map((p) => p.split("/")[0]))];
  const result = await cruise(tops, {
    baseDir: root,
    validate: true,
    ruleSet: { forbidden: config.forbidden } as never,
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
  }, { extensions: [".ts", ".js"] } as never);
  const output = result.output as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> } };
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

const adapter = { "shared/adapters/local/store.ts": "export const store = 1;\n" };
const port = { "shared/ports/store.ts": "export interface Store { x: number }\n" };

describe("dependency rules (.dependency-cruiser.cjs)", () => {
  it("a function importing another function's folder is refused; its own folder and shared/ are not", async () => {
    const found = await violations({
      "functions/api/operations.ts": "export const op = 1;\n",
      "functions/api/routes/bays.ts": 'import { op } from "../operations.ts";\nexport const r = op;\n',
      "functions/webhook/app.ts": 'import { op } from "../api/operations.ts";\nimport { ok } from "../../shared/bays/ok.ts";\nexport const a = op + ok;\n',
      "shared/bays/ok.ts": "export const ok = 1;\n",
    });
    assert.deepEqual(found, ["no-cross-function: functions/webhook/app.ts → functions/api/operations.ts"]);
  });

  it("shared/domain importing I/O (node:fs, node:net, an SDK, an adapter) is refused; pure modules are not", async () => {
    const found = await violations({
      ...adapter,
      ...port,
      "shared/domain/reads-files.ts": 'import { readFileSync } from "node:fs";\nexport const f = readFileSync;\n',
      "shared/domain/sockets.ts": 'import { isIP } from "node:net";\nexport const g = isIP;\n',
      "shared/domain/stores.ts": 'import { store } from "../adapters/local/store.ts";\nexport const s = store;\n',
      "shared/domain/sdk.ts": 'import Database from "better-sqlite3";\nexport const db = Database;\n',
      "shared/domain/yaml.ts": 'import { load } from "js-yaml";\nexport const y = load;\n',
      "shared/domain/pure.ts": 'import { randomUUID } from "node:crypto";\nimport type { Store } from "../ports/store.ts";\nexport const p = (s: Store) => randomUUID() + s.x;\n',
    });
    assert.deepEqual(found, [
      "domain-no-io: shared/domain/reads-files.ts → fs",
      "domain-no-io: shared/domain/sockets.ts → net",
      "domain-no-io-packages: shared/domain/sdk.ts → better-sqlite3",
      "domain-no-outer-layers: shared/domain/stores.ts → shared/adapters/local/store.ts",
      "adapters-only-in-composition-roots: shared/domain/stores.ts → shared/adapters/local/store.ts",
    ].sort());
  });

  it("an adapter imported outside a composition root is refused; compose.ts, lambda*.ts, infra/ and other adapters may", async () => {
    const found = await violations({
      ...adapter,
      "shared/adapters/local/index.ts": 'import { store } from "./store.ts";\nexport const i = store;\n',
      "functions/worker/steps/drain.ts": 'import { store } from "../../../shared/adapters/local/store.ts";\nexport const d = store;\n',
      "shared/bays/accept.ts": 'import { store } from "../adapters/local/store.ts";\nexport const a = store;\n',
      "functions/worker/compose.ts": 'import { store } from "../../shared/adapters/local/store.ts";\nexport const c = store;\n',
      "functions/worker/lambda-batch.ts": 'import { store } from "../../shared/adapters/local/store.ts";\nexport const l = store;\n',
      "infra/local/start.ts": 'import { store } from "../../shared/adapters/local/store.ts";\nexport const s = store;\n',
    });
    assert.deepEqual(found, [
      "adapters-only-in-composition-roots: functions/worker/steps/drain.ts → shared/adapters/local/store.ts",
      "adapters-only-in-composition-roots: shared/bays/accept.ts → shared/adapters/local/store.ts",
    ].sort());
  });
});
