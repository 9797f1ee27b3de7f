// newDiscoveryUrl (shared/bays/discovery-directory.ts): the directory's token, its only
// secret, is 16 random bytes cut from a pooled buffer; across refills of the pool no token repeats.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { DiscoveryStore } from "../../shared/ports/discovery-store.ts";
import { DISCOVERY_PATH, newDiscoveryUrl } from "../../shared/bays/discovery-directory.ts";

describe("newDiscoveryUrl", () => {
  it("makes a directory of the size asked for under a fresh 32-hex-digit token, pool refills included", async () => {
    const made: Array<[string, number]> = [];
    const discovery = { createDirectory: async (token: string, size: number) => void made.push([token, size]) } as unknown as DiscoveryStore;
    const urls: string[] = [];
    // 4096-byte pool, 16 bytes a token: 1,000 tokens span several refills
    for (let i = 0; i < 1000; i++) urls.push(await newDiscoveryUrl({ discovery }, "https://bayforge.example/", 3));
    const tokens = made.map(([t]) => t);
    assert.equal(new Set(tokens).size, 1000);
    for (const t of tokens) assert.match(t, /^[0-9a-f]{32}$/);
    assert.ok(made.every(([, size]) => size === 3));
    assert.equal(urls[7], `https://bayforge.example${DISCOVERY_PATH}/${tokens[7]}`);
  });
});
