// Headless Chromium for the console's browser tests: Debian's chromium (installed by
// scripts/ensure-chromium.sh when missing), driven through playwright-core.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { ROOT } from "./bayforge-process.ts";

export async function launchChromium(): Promise<Browser> {
  const executablePath = execFileSync("bash", [join(ROOT, "scripts", "ensure-chromium.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  return chromium.launch({ executablePath, args: ["--no-sandbox"] });
}
