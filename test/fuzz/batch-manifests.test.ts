// Property-based fuzzing of batch manifests (`bayforge apply -f`, POST /v1/batches): the parser
// and validator on their own (fast, so many cases) and the route over real HTTP on the embedded
// SQLite stores. Generated: near-valid manifests with one thing wrong, YAML features a manifest
// never needs (other schemas' tags, anchors, merge keys, directives, several documents),
// alias bombs, nesting 20,000 deep, and junk. A manifest is accepted as checked, or refused with
// a 400 listing every problem with its path — never another error, never a hang, and over HTTP
// never a 5xx and no write when refused. FUZZ_SEED / FUZZ_SCALE: see support/runs.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fuzzParams } from "./support/runs.ts";
import { parseManifest, MAX_MANIFEST_BAYS } from "../../shared/domain/manifest.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { BAY_NAME_PATTERN, DEFAULT_MAX_NODES_PER_BAY } from "../../shared/domain/bay.ts";
import { startFuzzApi, type FuzzApi } from "./support/fuzz-api.ts";
import { own, PROTO_KEYS, text } from "./support/arbitraries.ts";
import { aliasBomb, applyChanges, deepYaml, manifestText, MODEL_FIELDS, serialise, validManifest, withFragment } from "./support/manifests.ts";

const EXISTING = ["fx-model"];
let cases = 0;
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();
const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s);

/**
 * parseManifest's answer: the manifest, or its 400: "The manifest has N problems; nothing was
 * applied:" then a "path: message" line per problem (a key or value holding a newline makes more
 * lines: it is the document's own text).
 */
function parse(text: string): { ok: true; manifest: ReturnType<typeof parseManifest>["manifest"] } | { ok: false; count: number; detail: string } {
  cases++;
  try {
    return { ok: true, manifest: parseManifest(text).manifest };
  } catch (e) {
    assert.ok(e instanceof ApiError, `not an ApiError (${(e as Error)?.stack}) for: ${clip(text)}`);
    assert.equal(e.status, 400, clip(text));
    const [head, ...lines] = e.detail.split("\n");
    const m = /^The manifest has (\d+) problems?; nothing was applied:$/.exec(head);
    assert.ok(m && Number(m[1]) >= 1, `the detail's first line counts the problems: ${clip(e.detail)}`);
    assert.ok(lines.length >= Number(m[1]) && lines.join("\n").includes(": "), `a "path: message" line per problem: ${clip(e.detail)}`);
    return { ok: false, count: Number(m[1]), detail: e.detail };
  } finally {
    assert.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(), PROTOTYPE_KEYS, `Object.prototype polluted by: ${clip(text)}`);
  }
}

describe("the manifest parser and validator (no I/O)", () => {
  // a generous bound: what it turns into a failure is a hang (an alias bomb being expanded)
  it("any text: the checked manifest, or a 400 listing each problem with its path — nothing else, however hostile", { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(manifestText(EXISTING), (text) => {
        const r = parse(text);
        if (!r.ok) return;
        // what it accepts is what the API's rules allow
        assert.ok(r.manifest.bays.length <= MAX_MANIFEST_BAYS);
        for (const b of r.manifest.bays) {
          assert.match(b.name, BAY_NAME_PATTERN);
          assert.ok(typeof b.baymodel === "string" && b.baymodel.length > 0);
          for (const k of ["node_count", "master_count"] as const) if (b[k] !== undefined) assert.ok(Number.isInteger(b[k]) && b[k]! >= 1 && b[k]! <= DEFAULT_MAX_NODES_PER_BAY, `${k} ${b[k]}`);
        }
        for (const m of r.manifest.baymodels) assert.ok(typeof m.name === "string" && m.name.length > 0);
      }),
      fuzzParams(3000),
    );
  });

  const valid = validManifest(EXISTING);

  it("a wrong type, an unknown attribute or a missing required one: its problem names the item and the field", () => {
    type Fault = { list: "bays" | "baymodels"; index: number; key: string; value?: unknown; expect: (i: number) => RegExp };
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const nonString = fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({ a: 1 }));
    const nonInteger = fc.oneof(fc.string({ maxLength: 5 }), fc.boolean(), fc.constant([1]), fc.double({ min: 0.1, max: 9.9, noNaN: true }).filter((x) => !Number.isInteger(x)));
    const fault: fc.Arbitrary<Fault> = fc.oneof(
      fc.record({ list: fc.constant("bays" as const), index: fc.nat(), key: fc.constantFrom("node_count", "master_count", "bay_create_timeout"), value: nonInteger }).map((f) => ({ ...f, expect: (i: number) => new RegExp(`^bays\\[${i}\\]\\.${f.key}: Value: `, "m") })),
      // counts above the bound on nodes per bay, up to 2^53
      fc.record({ list: fc.constant("bays" as const), index: fc.nat(), key: fc.constantFrom("node_count", "master_count"), value: fc.integer({ min: DEFAULT_MAX_NODES_PER_BAY + 1, max: Number.MAX_SAFE_INTEGER }) }).map((f) => ({ ...f, expect: (i: number) => new RegExp(`^bays\\[${i}\\]\\.${f.key}: Value: '${f.value}'\\. Value should be less or equal to ${DEFAULT_MAX_NODES_PER_BAY} \\(the maximum nodes per bay\\)$`, "m") })),
      fc.record({ list: fc.constant("bays" as const), index: fc.nat(), key: fc.constantFrom("name", "baymodel", "discovery_url"), value: nonString }).map((f) => ({ ...f, expect: (i: number) => new RegExp(`^bays\\[${i}\\]\\.${f.key}: Value: `, "m") })),
      fc.record({ list: fc.constant("baymodels" as const), index: fc.nat(), key: fc.constantFrom("image_id", "keypair_id", "external_network_id", "flavor_id"), value: nonString }).map((f) => ({ ...f, expect: (i: number) => new RegExp(`^baymodels\\[${i}\\]\\.${f.key}: Value: `, "m") })),
      fc.record({ list: fc.constantFrom("bays" as const, "baymodels" as const), index: fc.nat(), key: fc.oneof(fc.constantFrom(...PROTO_KEYS, "project_id", "status", "api_address"), text.filter((t) => !["name", "baymodel", "node_count", "master_count", "bay_create_timeout", "discovery_url", "coe", "image_id", "keypair_id", "external_network_id", "flavor_id", "labels", "uuid"].includes(t))), value: fc.constant(1) }).map((f) => ({
        ...f,
        expect: (i: number) => new RegExp(`^${f.list}\\[${i}\\]\\.${esc(f.key)}: unknown attribute`, "m"),
      })),
      fc.record({ list: fc.constant("bays" as const), index: fc.nat(), key: fc.constantFrom("name", "baymodel") }).map((f) => ({ ...f, expect: (i: number) => new RegExp(`^bays\\[${i}\\]: missing ${f.key}$`, "m") })),
      fc.record({ list: fc.constant("baymodels" as const), index: fc.nat(), key: fc.constantFrom("name", "coe", "image_id", "keypair_id", "external_network_id") }).map((f) => ({ ...f, expect: (i: number) => new RegExp(`^baymodels\\[${i}\\]: missing ${f.key}$`, "m") })),
    );
    fc.assert(
      fc.property(valid, fault, (doc, f) => {
        const list = doc[f.list];
        fc.pre(list.length > 0);
        const i = f.index % list.length;
        const change = f.value === undefined ? { at: "drop" as const, list: f.list, index: i, key: f.key } : { at: f.list, index: i, key: f.key, value: f.value };
        const text = JSON.stringify(applyChanges(doc, [change]));
        const r = parse(text);
        assert.ok(!r.ok, `accepted: ${clip(text)}`);
        assert.ok(f.expect(i).test(r.detail), `a problem matching ${f.expect(i)} in ${clip(r.detail, 2000)} for ${clip(text)}`);
      }),
      fuzzParams(1500),
    );
  });

  it("a valid manifest is accepted as written, in YAML (block or flow) and in JSON", () => {
    fc.assert(
      fc.property(valid.chain((doc) => serialise(doc).map((t) => [doc, t] as const)), ([doc, t]) => {
        const r = parse(t);
        assert.ok(r.ok, `refused: ${clip(t)} ${r.ok ? "" : r.detail}`);
        assert.deepEqual(r.manifest.bays.map((b) => b.name), doc.bays.map((b) => b.name));
        assert.deepEqual(r.manifest.baymodels.map((m) => ({ name: m.name, ...m.fields })), doc.baymodels.map((m) => ({ ...m })));
      }),
      fuzzParams(500),
    );
  });

  it("an alias bomb is refused with one problem per item, without expanding it", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(aliasBomb, (t) => {
        const r = parse(t);
        assert.ok(!r.ok, clip(t));
        const items = (t.match(/^ {2}- name: /gm) ?? []).length;
        assert.equal(r.count, items, `${clip(r.detail, 2000)} for ${clip(t)}`);
      }),
      fuzzParams(400),
    );
  });

  it("nesting thousands deep, other schemas' tags, aliases and directives: a 400 naming where, never another error", () => {
    fc.assert(
      fc.property(fc.oneof(deepYaml, withFragment), (t) => void parse(t)),
      fuzzParams(1000),
    );
  });
});

describe("POST /v1/batches over HTTP", () => {
  let api: FuzzApi;
  before(async () => {
    api = await startFuzzApi();
    const r = await api.send({ method: "POST", path: "/v1/baymodels", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "fx-model", ...MODEL_FIELDS }) });
    assert.equal(r.status, 201, r.text);
    api.probe.rebase();
  });
  after(() => api?.close());

  it("any manifest: 202 storing one batch and queueing one message, or a refusal in Magnum's envelope that writes nothing", async () => {
    const type = fc.constantFrom("application/yaml", "text/yaml", "application/x-yaml", "application/json", "text/plain", "application/xml", undefined);
    await fc.assert(
      fc.asyncProperty(fc.oneof(manifestText(EXISTING), aliasBomb, deepYaml), type, fc.constantFrom(undefined, "other-project"), async (body, contentType, project) => {
        cases++;
        const before = api.probe.counts();
        const headers: Record<string, string> = { ...(contentType ? { "content-type": contentType } : {}), ...(project ? { "x-project-id": project } : {}) };
        const res = await api.send({ method: "POST", path: "/v1/batches", headers, body });
        const wrote = api.probe.changed();
        const where = `${contentType} ${clip(body)} → ${res.status} ${clip(res.text)}`;
        assert.ok(res.status < 500, where);
        if (res.status === 202) {
          const after = api.probe.counts();
          assert.equal(after.batches - before.batches, 1, where);
          assert.equal(after.queue_messages - before.queue_messages, 1, where);
          assert.equal(after.bays - before.bays, 0, `the fan-out is the worker's: ${where}`);
          return;
        }
        assert.ok(!wrote, `refused, but wrote: ${where}`);
        assert.ok([400, 413, 415].includes(res.status), where);
        const [e] = res.json.errors;
        assert.equal(e.status, res.status, where);
        assert.ok(e.detail.trim(), where);
        if (res.status === 415) assert.ok(contentType && !/yaml|json/.test(contentType), where);
      }),
      fuzzParams(800),
    );
  });
});

after(() => console.log(`fuzz batch-manifests: ${cases} cases`));
