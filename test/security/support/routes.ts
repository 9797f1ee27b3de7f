// The routes `npm start` serves, read from the app itself (composeApi on the embedded stores,
// as infra/local/embedded.ts composes it), so a test over "every route" sees a new one at once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSettings } from "../../../shared/config.ts";
import { openLocalStores } from "../../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../../shared/adapters/local/key-vault.ts";
import { composeApi } from "../../../functions/api/compose.ts";
import { silentLogger } from "../../../shared/observability/logger.ts";
import { servedRoutes } from "../../fuzz/support/fuzz-api.ts";

export async function appRoutes(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "bf-routes-"));
  const stores = openLocalStores(dir);
  try {
    const vault = await LocalKeyVault.forDataDir(dir, {});
    const app = composeApi(loadSettings({ BAYFORGE_DATA_DIR: dir, BAYFORGE_AUTH: "noauth" }), { ...stores, vault }, silentLogger);
    return servedRoutes(app);
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
