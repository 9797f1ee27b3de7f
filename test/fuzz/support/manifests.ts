// Generators of batch manifests (`bayforge apply -f bays.yaml`, POST /v1/batches): near-valid
// documents with one thing wrong, YAML features a manifest never needs (tags of other schemas,
// anchors and aliases, merge keys, directives, several documents, complex keys), alias bombs
// ("billion laughs": a few hundred bytes that stand for billions of nodes), nesting far deeper
// than any manifest, and plain junk text.
import fc from "fast-check";
import { dump } from "js-yaml";
import { number, own, PROTO_KEYS, text } from "./arbitraries.ts";

/** The baymodel fields a manifest's baymodel may carry (a valid set). */
export const MODEL_FIELDS = {
  coe: "kubernetes",
  image_id: "fedora-atomic",
  keypair_id: "demo-key",
  external_network_id: "public",
  flavor_id: "m1.small",
  // the bays below may have up to 3 masters, which needs a load balancer
  master_lb_enabled: true,
};

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);

/** A valid manifest: baymodels of its own, bays naming them or `existing` ones. */
export function validManifest(existing: string[]): fc.Arbitrary<{ baymodels: Record<string, unknown>[]; bays: Record<string, unknown>[] }> {
  return fc
    .record({
      models: fc.uniqueArray(name, { minLength: 0, maxLength: 3 }),
      bays: fc.uniqueArray(
        fc.record({ name, node_count: fc.integer({ min: 1, max: 5 }), master_count: fc.integer({ min: 1, max: 3 }), bay_create_timeout: fc.integer({ min: 0, max: 90 }) }, { requiredKeys: ["name"] }),
        { minLength: 1, maxLength: 4, selector: (b) => b.name },
      ),
      pick: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    })
    .map(({ models, bays, pick }) => {
      const refs = [...models.map((m) => `m-${m}`), ...existing];
      return {
        baymodels: models.map((m) => ({ name: `m-${m}`, ...MODEL_FIELDS })),
        bays: bays.map((b, i) => ({ ...b, baymodel: refs[pick[i] % refs.length] })),
      };
    });
}

/** A JSON-able value that is wrong almost anywhere in a manifest (no Deep markers: YAML text is built by js-yaml). */
const wrong: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  number,
  text,
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(fc.tuple(fc.oneof(text, fc.constantFrom(...PROTO_KEYS)), fc.jsonValue({ maxDepth: 1 })), { maxLength: 3 }).map(own),
);

/** Where a change goes in a manifest, and what it is. */
export type Change = { at: "top" | "bays" | "baymodels"; index: number; key: string; value: unknown } | { at: "drop"; list: "bays" | "baymodels"; index: number; key: string };

const keys = (extra: string[]) => fc.oneof(fc.constantFrom(...extra), fc.constantFrom(...PROTO_KEYS), text);
const BAY_KEYS = ["name", "baymodel", "node_count", "master_count", "bay_create_timeout", "discovery_url", "uuid", "status", "labels"];
const MODEL_KEYS = ["name", "coe", "image_id", "keypair_id", "external_network_id", "flavor_id", "labels", "docker_volume_size", "dns_nameserver", "public", "apiserver_port", "network_driver", "uuid"];

export const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ at: fc.constant("top" as const), index: fc.nat(), key: keys(["baymodels", "bays", "apiVersion", "kind"]), value: wrong }),
  fc.record({ at: fc.constant("bays" as const), index: fc.nat(), key: keys(BAY_KEYS), value: wrong }),
  fc.record({ at: fc.constant("baymodels" as const), index: fc.nat(), key: keys(MODEL_KEYS), value: wrong }),
  fc.record({ at: fc.constant("drop" as const), list: fc.constantFrom("bays" as const, "baymodels" as const), index: fc.nat(), key: fc.constantFrom(...BAY_KEYS, ...MODEL_KEYS) }),
);

/** The manifest with the changes applied (own properties, so `__proto__` stays a key). */
export function applyChanges(doc: { baymodels: Record<string, unknown>[]; bays: Record<string, unknown>[] }, changes: Change[]): Record<string, unknown> {
  const out: Record<string, unknown> = own([
    ["baymodels", doc.baymodels.map((m) => own(Object.entries(m)))],
    ["bays", doc.bays.map((b) => own(Object.entries(b)))],
  ]);
  /** the item at `index` of a list, if a change before this one left one there */
  const item = (list: string, index: number): Record<string, unknown> | undefined => {
    const l = out[list];
    const it = Array.isArray(l) && l.length ? l[index % l.length] : undefined;
    return it !== null && typeof it === "object" ? (it as Record<string, unknown>) : undefined;
  };
  for (const c of changes) {
    if (c.at === "top") Object.defineProperty(out, c.key, { value: c.value, enumerable: true, writable: true, configurable: true });
    else if (c.at === "drop") {
      const it = item(c.list, c.index);
      if (it) delete it[c.key];
    } else {
      const it = item(c.at, c.index);
      if (it) Object.defineProperty(it, c.key, { value: c.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

/** A document as YAML (block or flow style) or JSON text. */
export const serialise = (doc: unknown): fc.Arbitrary<string> =>
  fc.constantFrom("block", "flow", "json", "json-pretty").map((style) =>
    style === "json" ? JSON.stringify(doc) : style === "json-pretty" ? JSON.stringify(doc, null, 2) : dump(doc, { flowLevel: style === "flow" ? 0 : -1, noRefs: true }),
  );

/** YAML fragments a manifest value never needs: other schemas' tags, aliases, odd scalars. */
const FRAGMENTS = [
  "!!binary aGVsbG8=", "!!timestamp 2001-12-14t21:59:43.10-05:00", "!!set {a, b}", "!!omap [{a: 1}, {b: 2}]", "!!pairs [{a: 1}]",
  '!!js/function "function () { return 1 }"', "!!js/regexp /x/", "!!js/undefined ''", "!!python/object/apply:os.system ['true']",
  "!custom x", "!<tag:yaml.org,2002:str> 5", '!!int "12"', "!!float .inf", "!!null ''", "!!bool yes", "!!str", "!!map {}", "!!seq []",
  ".inf", "-.inf", ".nan", "0x1F", "0o17", "1_000", "+1", "~", "yes", "off", "1e3", "2001-12-14", "'quoted'", '"\\u0000\\ud800"',
  "*undefined_alias", "&anchor_only", "[a, *x]", "{? [a, b] : c}", "|\n    block text", ">-\n    folded", "'", '"', "[", "{", "- a", ": x", "? x",
  "@reserved", "`reserved", "%percent", "!!", "!", "&", "*",
];

/** A manifest's text with a fragment put in place of one value: line-level YAML surgery. */
export const withFragment: fc.Arbitrary<string> = fc
  .record({
    fragment: fc.oneof(fc.constantFrom(...FRAGMENTS), text.map((t) => JSON.stringify(t))),
    where: fc.constantFrom("name", "baymodel", "node_count", "image_id", "labels", "bays", "baymodels", "top"),
    extra: fc.constantFrom("", "%YAML 1.1\n---\n", "%TAG ! tag:example.com,2000:\n---\n", "---\n", "\ufeff", "# comment\n"),
    tail: fc.constantFrom("", "\n---\nbays: []\n", "\n...\n", "\n\t", "\nbays: []\n", "\nbase: &base {coe: kubernetes}\n"),
  })
  .map(({ fragment, where, extra, tail }) => {
    const v = (k: string, dflt: string) => (where === k ? fragment : dflt);
    return (
      extra +
      `baymodels: ${where === "baymodels" ? fragment : ""}\n` +
      (where === "baymodels" ? "" : `  - name: ${v("name", "m1")}\n    coe: &coe kubernetes\n    image_id: ${v("image_id", "fedora-atomic")}\n    keypair_id: k\n    external_network_id: public\n    labels: ${v("labels", "{a: b}")}\n    <<: {flavor_id: m1.small}\n`) +
      `bays: ${where === "bays" ? fragment : ""}\n` +
      (where === "bays" ? "" : `  - name: ${v("name", "b1")}\n    baymodel: ${v("baymodel", "m1")}\n    node_count: ${v("node_count", "2")}\n  - {name: b2, baymodel: *coe}\n`) +
      (where === "top" ? `${fragment}: 1\n` : "") +
      tail
    );
  });

/**
 * Billion laughs: `levels` bays, each one's `field` an alias-built list (or mapping) `fanout`
 * times the previous one, so the last stands for fanout^levels nodes in a few hundred bytes.
 */
export const aliasBomb: fc.Arbitrary<string> = fc
  .record({
    levels: fc.integer({ min: 3, max: 14 }),
    fanout: fc.integer({ min: 2, max: 12 }),
    field: fc.constantFrom("discovery_url", "name", "node_count", "labels", "baymodel", "unknown_key"),
    mapping: fc.boolean(),
    inModels: fc.boolean(),
  })
  .map(({ levels, fanout, field, mapping, inModels }) => {
    const item = (i: number, value: string) =>
      inModels
        ? `  - name: m${i}\n    coe: kubernetes\n    image_id: i\n    keypair_id: k\n    external_network_id: p\n    ${field === "discovery_url" ? "labels" : field}: ${value}\n`
        : `  - name: b${i}\n    baymodel: m\n    ${field}: ${value}\n`;
    const list = (i: number) =>
      mapping
        ? `&l${i} {${Array.from({ length: fanout }, (_, j) => `k${j}: ${i ? `*l${i - 1}` : "[lol]"}`).join(", ")}}`
        : `&l${i} [${Array.from({ length: fanout }, () => (i ? `*l${i - 1}` : "lol")).join(", ")}]`;
    return `${inModels ? "baymodels" : "bays"}:\n${Array.from({ length: levels }, (_, i) => item(i, list(i))).join("")}`;
  });

/** Nesting far deeper than a manifest: flow collections, block lists, or both. */
export const deepYaml: fc.Arbitrary<string> = fc
  .record({ depth: fc.integer({ min: 100, max: 20_000 }), kind: fc.constantFrom("flow-seq", "flow-map", "block") })
  .map(({ depth, kind }) =>
    kind === "flow-seq"
      ? `bays: ${"[".repeat(depth)}${"]".repeat(depth)}\n`
      : kind === "flow-map"
        ? `bays: ${"{a: ".repeat(depth)}1${"}".repeat(depth)}\n`
        : `bays:\n${Array.from({ length: Math.min(depth, 300) }, (_, i) => `${" ".repeat(i + 1)}- `).join("\n")}x\n`,
  );

/** Any manifest text, from nearly right to plain junk. */
export function manifestText(existing: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(validManifest(existing), fc.array(change, { maxLength: 3 })).chain(([doc, cs]) => serialise(applyChanges(doc, cs))) },
    { weight: 3, arbitrary: withFragment },
    { weight: 1, arbitrary: aliasBomb },
    { weight: 1, arbitrary: deepYaml },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "---", "...", "~", "null", "[]", "{}", "bays:", "bays: 1", "baymodels: {}", "\t", "bays:\n\t- a", "%YAML 2.0\n---\n{}", "a: b\na: c", "bays: []\nbays: []") },
  );
}
