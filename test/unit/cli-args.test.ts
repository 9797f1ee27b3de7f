// The bayforge CLI's argument parsing, output formatting, error envelope and progress lines
// (no server: the end-to-end behaviour is in test/e2e/cli.test.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCommand, UsageError } from "../../cli/args.ts";
import { baseUrl, errorDetail } from "../../cli/client.ts";
import { elapsed, fields, table } from "../../cli/format.ts";
import { Progress, progressText } from "../../cli/progress.ts";

describe("bayforge argument parsing", () => {
  it("parses commands, positionals and options anywhere on the line", () => {
    assert.deepEqual(parseCommand(["bay", "create", "k1", "--model", "m", "--nodes", "3", "--masters", "1", "--timeout", "0", "--json"]), {
      help: false,
      name: "bay create",
      args: { name: "k1" },
      options: { model: "m", nodes: 3, masters: 1, timeout: 0 },
      url: undefined,
      token: undefined,
      json: true,
    });
    const w = parseCommand(["--url", "http://x:1", "bay", "wait", "k1", "--timeout=30", "--token", "t"]);
    assert.ok(!w.help);
    assert.equal(w.name, "bay wait");
    assert.equal(w.options.timeout, 30);
    assert.equal(w.url, "http://x:1");
    assert.equal(w.token, "t");
    const f = parseCommand(["baymodel", "create", "-f", "m.yaml"]);
    assert.ok(!f.help && f.options.file === "m.yaml");
    assert.deepEqual(parseCommand(["bay", "scale", "k1", "4"]).help ? {} : parseCommand(["bay", "scale", "k1", "4"]), {
      help: false, name: "bay scale", args: { name: "k1", N: "4" }, options: {}, url: undefined, token: undefined, json: false,
    });
    assert.deepEqual(parseCommand(["-h"]), { help: true });
    assert.deepEqual(parseCommand(["bay", "list", "--help"]), { help: true });
  });

  it("refuses what a command does not take, with a message naming it", () => {
    for (const [argv, words] of [
      [[], /command is required/],
      [["cluster", "list"], /unknown command 'cluster'/],
      [["bay"], /unknown command 'bay'/],
      [["bay", "frob"], /unknown command 'bay frob'/],
      [["bay", "show"], /<name>/],
      [["bay", "show", "a", "b"], /takes <name>, not 'a b'/],
      [["bay", "list", "--model", "m"], /does not take --model/],
      [["bay", "create", "k"], /--model/],
      [["bay", "create", "k", "--model", "m", "--nodes", "0"], /--nodes must be a whole number ≥ 1/],
      [["bay", "create", "k", "--model", "m", "--nodes", "two"], /--nodes/],
      [["bay", "scale", "k", "-1"], /Unknown option|must be/],
      [["bay", "scale", "k", "1.5"], /<N> must be/],
      [["bay", "wait", "k", "--timeout"], /--timeout/],
      [["bay", "list", "--bogus"], /bogus/],
      [["baymodel", "create"], /-f/],
    ] as const) {
      assert.throws(() => parseCommand([...argv]), (e: Error) => e instanceof UsageError && words.test(e.message), argv.join(" "));
    }
  });
});

describe("bayforge output", () => {
  it("lists as a padded table and shows one object as field/value lines", () => {
    assert.equal(
      table([{ uuid: "u1", name: "a", status: "CREATE_COMPLETE" }, { uuid: "u22", name: "bb", status: null }], ["uuid", "name", "status"]),
      "UUID  NAME  STATUS\nu1    a     CREATE_COMPLETE\nu22   bb    -",
    );
    assert.equal(fields({ z: 1, name: "k", uuid: "u", labels: { a: "b" }, links: [] }, ["uuid", "name"]), "uuid    u\nname    k\nlabels  {\"a\":\"b\"}\nz       1");
    assert.equal(elapsed(5_400), "5s");
    assert.equal(elapsed(75_000), "1m15s");
  });

  it("takes Magnum's detail out of the error envelope, else the body or the status", () => {
    const env = JSON.stringify({ errors: [{ request_id: "r", code: "client", status: 404, title: "Not Found", detail: "Bay k could not be found.", links: [] }] });
    assert.equal(errorDetail(404, env), "Bay k could not be found.");
    assert.equal(errorDetail(502, "Bad gateway\n"), "Bad gateway");
    assert.equal(errorDetail(500, ""), "HTTP 500");
  });

  it("uses BAYFORGE_URL or the default, without a trailing /v1", () => {
    assert.equal(baseUrl(undefined, {}), "http://127.0.0.1:9511");
    assert.equal(baseUrl(undefined, { BAYFORGE_URL: "https://bf.example/v1/" }), "https://bf.example");
    assert.equal(baseUrl("http://a:1/", { BAYFORGE_URL: "http://b" }), "http://a:1");
  });

  it("progress: one plain line per change off a TTY; an in-place spinner line on one", () => {
    let t = 0;
    const plain: string[] = [];
    const p = new Progress({ write: (s: string) => plain.push(s) }, "bay k", () => t);
    p.update({ status: "CREATE_IN_PROGRESS", event: { kind: "accepted", detail: "bay accepted" } });
    t = 3000;
    p.update({ status: "CREATE_IN_PROGRESS", event: { kind: "accepted", detail: "bay accepted" } });
    p.update({ status: "CREATE_IN_PROGRESS", event: { kind: "stack_requested", detail: "stack\nk-1" } });
    p.stop();
    assert.deepEqual(plain, ["bay k: CREATE_IN_PROGRESS  accepted: bay accepted  (0s)\n", "bay k: CREATE_IN_PROGRESS  stack_requested: stack k-1  (3s)\n"]);

    const tty: string[] = [];
    const q = new Progress({ write: (s: string) => tty.push(s), isTTY: true, columns: 40 }, "bay k", () => 65_000);
    q.update({ status: "UPDATE_IN_PROGRESS", event: { kind: "stack_update_requested", detail: "a long detail that will not fit" } });
    q.stop();
    assert.ok(tty[0].startsWith("\r\x1b[2K⠋ bay k: UPDATE_IN_PROGRESS"), tty[0]);
    assert.ok(tty[0].length - "\r\x1b[2K".length <= 39 && tty[0].endsWith("…"), tty[0]);
    assert.equal(tty.at(-1), "\r\x1b[2K");
    assert.equal(progressText({ status: "CREATE_COMPLETE" }, 1000), "CREATE_COMPLETE  (1s)");
  });
});
