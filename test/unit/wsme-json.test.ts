// What Magnum's WSME does to a request's JSON before its controllers (functions/api/wsme-json.ts):
// the strings magnum-ui sends for numbers and booleans, the repr of a dict it sends for labels.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromJson, fromJsonPatch, pythonLiteral } from "../../functions/api/wsme-json.ts";

const KINDS = { node_count: "integer", public: "boolean", labels: "labels", name: "string" } as const;

describe("a create's body, as WSME's fromjson reads it", () => {
  it("takes integers from digit strings and booleans from Magnum's strings; leaves anything else for the rules to refuse", () => {
    assert.deepEqual(fromJson({ node_count: "2", public: "False", name: "5" }, KINDS), { node_count: 2, public: false, name: "5" });
    assert.deepEqual(fromJson({ node_count: " +3 ", public: "yes" }, KINDS), { node_count: 3, public: true });
    for (const odd of ["2.5", "two", "", "1e3", "9".repeat(30)]) assert.equal((fromJson({ node_count: odd }, KINDS) as any).node_count, odd);
    assert.equal((fromJson({ public: "maybe" }, KINDS) as any).public, "maybe");
    assert.deepEqual(fromJson([1], KINDS), [1], "not an object: left to the rules");
  });
  it("keeps label values as strings: booleans and numbers in JSON's spelling", () => {
    assert.deepEqual(fromJson({ labels: { a: false, b: 5, c: "x", d: null } }, KINDS), { labels: { a: "false", b: "5", c: "x", d: null } });
  });
  it("takes \"\" as not given only for the fields named", () => {
    assert.deepEqual(fromJson({ discovery_url: "", name: "" }, KINDS, ["discovery_url"]), { discovery_url: null, name: "" });
  });
});

describe("a JSON patch, as Magnum applies it", () => {
  it("reads booleans from strings, never integers, and replace /labels from a Python literal", () => {
    assert.deepEqual(fromJsonPatch([
      { op: "replace", path: "/public", value: "True" },
      { op: "replace", path: "/node_count", value: "1" },
      { op: "replace", path: "/labels", value: "{'kube_tag': 'v1.28.9', \"x\": True, 'n': 3}" },
      { op: "add", path: "/labels/k", value: "v" },
      { op: "add", path: "/labels/n", value: 1 },
    ], KINDS), [
      { op: "replace", path: "/public", value: true },
      { op: "replace", path: "/node_count", value: "1" },
      { op: "replace", path: "/labels", value: { kube_tag: "v1.28.9", x: "true", n: "3" } },
      { op: "add", path: "/labels/k", value: "v" },
      { op: "add", path: "/labels/n", value: "1" },
    ]);
  });
  it("drops the removals it is told change nothing", () => {
    assert.deepEqual(fromJsonPatch([{ op: "remove", path: "/driver" }, { op: "remove", path: "/labels" }], KINDS, ["/driver"]), [{ op: "remove", path: "/labels" }]);
  });
});

describe("Python literals (ast.literal_eval's, for magnum-ui's str(dict))", () => {
  it("reads dicts of strings, numbers, booleans and None, with escapes", () => {
    assert.deepEqual(pythonLiteral("{}"), {});
    assert.deepEqual(pythonLiteral(" {'a': 'b', 'c': None, 'd': -1.5, 'e': False, 'q': 'it\\'s', } "), { a: "b", c: null, d: -1.5, e: false, q: "it's" });
    assert.equal(pythonLiteral("'x'"), "x");
  });
  it("refuses anything else with a 400, bounded, and never makes a prototype key special", () => {
    for (const bad of ["{'a': b}", "{'a' 'b'}", "{'a': 'b'", "__import__('os')", "{1: 'a'}", "{'a': 'b'} x", "[1]", "'\\x41'", "{".repeat(20) + "}".repeat(20)])
      assert.throws(() => pythonLiteral(bad), (e: any) => e.status === 400, bad);
    assert.throws(() => pythonLiteral(`'${"a".repeat(70_000)}'`), (e: any) => e.status === 400);
    const proto = pythonLiteral("{'__proto__': 'x'}") as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.equal(Object.keys(proto)[0], "__proto__");
  });
});
