// The embedded SQLite stores: the BayTable, WorkQueue and BatchStore contracts, plus what only a local
// durable file has to prove: acknowledged writes survive SIGKILL, the file never ends up
// corrupt, and two processes polling one queue never hold the same message at once.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import {
  integrityCheck,
  openDatabase,
  openLocalStores,
  SCHEMA_VERSION,
  SqliteWorkQueue,
  type DeadLetter,
  type LocalStoresOptions,
} from "../../shared/adapters/local/index.ts";
import { bayTableContract, sampleBay, sampleCerts } from "../support/bay-table-contract.ts";
import { sampleMessage, workQueueContract } from "../support/work-queue-contract.ts";
import { batchStoreContract } from "../support/batch-store-contract.ts";
import { quotaStoreContract } from "../support/quota-store-contract.ts";
import { serviceRegistryContract } from "../support/service-registry-contract.ts";

const CHILD = fileURLToPath(new URL("../support/local-stores-child.ts", import.meta.url));

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bayforge-local-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function open(options: LocalStoresOptions = {}, dir = tempDir()) {
  return { dir, ...openLocalStores(dir, options) };
}

bayTableContract("SQLite (local)", async () => {
  const stores = open();
  return { table: stores.table, close: stores.close };
});

workQueueContract("SQLite (local)", async ({ now, maxReceives, onDeadLetter }) => {
  const stores = open({ queue: { now, maxReceives, onDeadLetter } });
  return { queue: stores.queue, deadLetters: () => stores.queue.deadLetters(), close: stores.close };
});

batchStoreContract("SQLite (local)", async () => {
  const stores = open();
  const other = open({}, stores.dir); // a second connection on the same file, as another process
  return {
    batches: stores.batches,
    other: other.batches,
    close: async () => {
      await other.close();
      await stores.close();
    },
  };
});

quotaStoreContract("SQLite (local)", async () => {
  const stores = open();
  const other = open({}, stores.dir);
  return {
    quotas: stores.quotas,
    other: other.quotas,
    close: async () => {
      await other.close();
      await stores.close();
    },
  };
});

serviceRegistryContract("SQLite (local)", async () => {
  const stores = open();
  const other = open({}, stores.dir);
  return {
    services: stores.services,
    other: other.services,
    close: async () => {
      await other.close();
      await stores.close();
    },
  };
});

class Clock {
  t = Date.UTC(2026, 10, 25, 12, 0, 0);
  readonly now = () => this.t;
  advance(seconds: number) {
    this.t += seconds * 1000;
  }
}

describe("local SQLite file", () => {
  it("creates <dataDir>/bayforge.sqlite in WAL mode at the current schema version", async () => {
    const dir = join(tempDir(), "nested", "data");
    const stores = openLocalStores(dir);
    assert.equal(stores.file, join(dir, "bayforge.sqlite"));
    await stores.close();
    const db = new Database(stores.file, { readonly: true });
    try {
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it("keeps everything across close and reopen, including a message's receipt and visibility", async () => {
    const clock = new Clock();
    const first = open({ queue: { now: clock.now } });
    const bay = sampleBay();
    const certs = sampleCerts(bay.uuid, "ca");
    await first.table.createBay(bay);
    await first.table.putCertsIfAbsent(certs);
    await first.table.appendEvent({ bay_uuid: bay.uuid, at: bay.created_at, kind: "accepted", detail: "" });
    await first.queue.send(sampleMessage({ bayId: bay.uuid }));
    await first.queue.send(sampleMessage({ bayId: bay.uuid, kind: "bay.poll" }), { delaySeconds: 60 });
    const [held] = await first.queue.receive(1, 30);
    await first.close();

    const second = open({ queue: { now: clock.now } }, first.dir);
    try {
      assert.deepEqual(await second.table.getBay(bay.uuid), bay);
      assert.deepEqual(await second.table.getCerts(bay.uuid), certs);
      assert.equal((await second.table.listEvents(bay.uuid)).length, 1);
      assert.deepEqual(await second.queue.stats(), { visible: 0, inFlight: 1, delayed: 1, deadLetters: 0 });
      await second.queue.delete(held.receipt);
      assert.equal(await second.queue.depth(), 1);
    } finally {
      await second.close();
    }
  });

  it("refuses a file written by a newer schema, naming both versions", async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openDatabase(dir), new RegExp(`schema version ${SCHEMA_VERSION + 1}.*\\(${SCHEMA_VERSION}\\)`));
  });

  it("lets one of two connections on the same file win a conditional update", async () => {
    const a = open();
    const b = open({}, a.dir);
    try {
      const bay = sampleBay({ version: 1 });
      await a.table.createBay(bay);
      await a.table.updateBay({ ...bay, status: "CREATE_COMPLETE" }, 1);
      await assert.rejects(b.table.updateBay({ ...bay, status: "CREATE_FAILED" }, 1), { name: "VersionConflict" });
      assert.equal((await b.table.getBay(bay.uuid))?.status, "CREATE_COMPLETE");
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("local work queue", () => {
  it("delivers in send order when messages become visible together", async () => {
    const stores = open();
    try {
      const sent = Array.from({ length: 7 }, (_, i) => sampleMessage({ attempt: i }));
      for (const m of sent) await stores.queue.send(m);
      const got = [...(await stores.queue.receive(4, 30)), ...(await stores.queue.receive(4, 30))];
      assert.deepEqual(got.map((m) => m.body.attempt), [0, 1, 2, 3, 4, 5, 6]);
    } finally {
      await stores.close();
    }
  });

  it("counts visible, in-flight, delayed and dead messages in stats(), and depth() as the first three", async () => {
    const clock = new Clock();
    const stores = open({ queue: { now: clock.now, maxReceives: 1 } });
    try {
      for (let i = 0; i < 3; i++) await stores.queue.send(sampleMessage());
      await stores.queue.send(sampleMessage(), { delaySeconds: 900 });
      await stores.queue.receive(1, 60);
      assert.deepEqual(await stores.queue.stats(), { visible: 2, inFlight: 1, delayed: 1, deadLetters: 0 });
      assert.equal(await stores.queue.depth(), 4);
      clock.advance(61);
      await stores.queue.receive(10, 60); // the first one dead-letters, the other two go in flight
      assert.deepEqual(await stores.queue.stats(), { visible: 0, inFlight: 2, delayed: 1, deadLetters: 1 });
      assert.equal(await stores.queue.depth(), 3);
    } finally {
      await stores.close();
    }
  });

  it("fills a receive with live messages when some visible ones are dead-lettered on the way", async () => {
    const clock = new Clock();
    const stores = open({ queue: { now: clock.now, maxReceives: 1 } });
    try {
      for (let i = 0; i < 3; i++) await stores.queue.send(sampleMessage({ attempt: i }));
      await stores.queue.receive(3, 10);
      clock.advance(11);
      for (let i = 3; i < 6; i++) await stores.queue.send(sampleMessage({ attempt: i }));
      const got = await stores.queue.receive(3, 10);
      assert.deepEqual(got.map((m) => m.body.attempt), [3, 4, 5]);
      assert.equal((await stores.queue.deadLetters()).length, 3);
    } finally {
      await stores.close();
    }
  });

  it("retries a failing onDeadLetter handler after hookRetrySeconds until it succeeds, then marks it handled", async () => {
    const clock = new Clock();
    const calls: DeadLetter[] = [];
    let fail = true;
    const stores = open({
      queue: {
        now: clock.now, maxReceives: 1, hookRetrySeconds: 30,
        onDeadLetter: (dl) => {
          calls.push(dl);
          if (fail) throw new Error("table unavailable");
        },
      },
    });
    try {
      const poison = sampleMessage();
      await stores.queue.send(poison);
      await stores.queue.receive(1, 10);
      clock.advance(11);
      assert.deepEqual(await stores.queue.receive(1, 10), []);
      assert.equal(calls.length, 1);
      let [dl] = await stores.queue.deadLetters();
      assert.equal(dl.handledAt, null);
      assert.match(dl.lastError ?? "", /table unavailable/);

      clock.advance(29);
      await stores.queue.receive(1, 10);
      assert.equal(calls.length, 1, "not retried before hookRetrySeconds");
      fail = false;
      clock.advance(1);
      await stores.queue.receive(1, 10);
      assert.equal(calls.length, 2);
      assert.deepEqual(calls[1].body, poison);
      assert.equal(calls[1].hookAttempts, 2);
      [dl] = await stores.queue.deadLetters();
      assert.equal(dl.handledAt, clock.t);
      assert.equal(dl.lastError, null);

      clock.advance(3600);
      await stores.queue.receive(1, 10);
      assert.equal(calls.length, 2, "a handled dead letter is not handed over again");
    } finally {
      await stores.close();
    }
  });

  it("hands dead letters made while no handler was set to the handler set later", async () => {
    const clock = new Clock();
    const stores = open({ queue: { now: clock.now, maxReceives: 1 } });
    try {
      await stores.queue.send(sampleMessage());
      await stores.queue.receive(1, 10);
      clock.advance(11);
      await stores.queue.receive(1, 10);
      const calls: DeadLetter[] = [];
      stores.queue.setDeadLetterHandler((dl) => void calls.push(dl));
      await stores.queue.receive(1, 10);
      assert.equal(calls.length, 1);
      assert.notEqual((await stores.queue.deadLetters())[0].handledAt, null);
    } finally {
      await stores.close();
    }
  });

  // (what every queue refuses is in the WorkQueue contract; these are SQS's limits, kept locally)
  it("rejects SQS-invalid arguments and writes nothing", async () => {
    const stores = open();
    try {
      await assert.rejects(stores.queue.send(sampleMessage(), { delaySeconds: 901 }), RangeError);
      await assert.rejects(stores.queue.send(sampleMessage(), { delaySeconds: 1.5 }), RangeError);
      await assert.rejects(stores.queue.receive(11, 30), RangeError);
      await assert.rejects(stores.queue.receive(0, 30), RangeError);
      await assert.rejects(stores.queue.receive(1, 43_201), RangeError);
      await assert.rejects(stores.queue.changeVisibility("r", -1), RangeError);
      assert.equal(await stores.queue.depth(), 0);
    } finally {
      await stores.close();
    }
  });

  it("keeps queues with different names in one file apart", async () => {
    const stores = open();
    try {
      const db = openDatabase(stores.dir);
      const other = new SqliteWorkQueue(db, { name: "other" });
      await other.send(sampleMessage());
      assert.deepEqual(await stores.queue.receive(10, 30), []);
      assert.equal((await other.receive(10, 30)).length, 1);
      db.close();
    } finally {
      await stores.close();
    }
  });
});

// ---- other processes ----

interface Child {
  proc: ChildProcess;
  lines: string[];
  stderr: string[];
  /** resolves with the exit code (null) and signal when the process is gone and its output read */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  onLine(fn: (line: string) => void): void;
}

function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const stderr: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const out = createInterface({ input: proc.stdout! });
  out.on("line", (line) => {
    lines.push(line);
    for (const fn of listeners) fn(line);
  });
  proc.stderr!.on("data", (d: Buffer) => stderr.push(d.toString()));
  const outClosed = new Promise((resolve) => out.once("close", resolve));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("close", (code, signal) => resolve({ code, signal })),
  ).then(async (r) => (await outClosed, r));
  return { proc, lines, stderr, exited, onLine: (fn) => listeners.push(fn) };
}

/** Resolves once the child has printed `line`; fails if it ends first. */
function printed(c: Child, line: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (c.lines.includes(line)) return resolve();
    c.onLine((l) => l === line && resolve());
    void c.exited.then((e) => reject(new Error(`the child ended (${e.code ?? e.signal}) before printing "${line}": ${c.stderr.join("")}`)));
  });
}

describe("local stores across processes", () => {
  it("keeps every acknowledged bay and message when the writer is SIGKILLed at random moments, and the file stays sound", async (t) => {
    const dir = tempDir();
    const ackedBays: string[] = [];
    for (let round = 1; round <= 3; round++) {
      // kill after a random number of acknowledgements, i.e. somewhere inside the write loop
      const killAfter = 50 + Math.floor(Math.random() * 1500);
      const child = startChild(["produce", dir]);
      let acks = 0;
      child.onLine((line) => {
        if (line.startsWith("bay ") || line.startsWith("msg ")) acks++;
        if (acks === killAfter) child.proc.kill("SIGKILL");
      });
      const { signal } = await child.exited;
      assert.equal(signal, "SIGKILL", `the writer ended on its own: ${child.stderr.join("")}`);

      const bays = child.lines.filter((l) => l.startsWith("bay ")).map((l) => l.slice(4));
      const messages = child.lines.filter((l) => l.startsWith("msg ")).map((l) => l.slice(4));
      ackedBays.push(...bays);
      t.diagnostic(`round ${round}: killed after ${bays.length} bays and ${messages.length} messages acknowledged`);

      const db = openDatabase(dir);
      assert.deepEqual(integrityCheck(db), ["ok"]);
      db.close();

      const stores = openLocalStores(dir);
      try {
        for (const uuid of ackedBays) assert.ok(await stores.table.getBay(uuid), `acknowledged bay ${uuid} is missing`);
        const queued = new Set<string>();
        for (let got; (got = await stores.queue.receive(10, 300)).length; ) {
          for (const m of got) {
            queued.add(m.body.requestId);
            await stores.queue.delete(m.receipt);
          }
        }
        for (const id of messages) assert.ok(queued.has(id), `acknowledged message ${id} is missing`);
        // at most the one bay whose send was cut short has no message
        assert.ok(queued.size >= messages.length && queued.size <= bays.length + 1);
      } finally {
        await stores.close();
      }
    }
  });

  it("never hands the same message to two processes receiving from one queue at the same time", async (t) => {
    const dir = tempDir();
    const total = 400;
    const producer = openLocalStores(dir);
    for (let i = 0; i < total; i++) await producer.queue.send(sampleMessage({ attempt: i }));
    await producer.close();

    const consumers = [startChild(["consume", dir, "1"]), startChild(["consume", dir, "3"])];
    await Promise.all(consumers.map((c) => printed(c, "ready")));
    for (const c of consumers) c.proc.stdin!.write("go\n");
    // both hold their first messages before either goes on: they receive side by side, however
    // the machine schedules them
    await Promise.all(consumers.map((c) => printed(c, "holding")));
    for (const c of consumers) c.proc.stdin!.end("more\n");
    const exits = await Promise.all(consumers.map((c) => c.exited));
    exits.forEach((e, i) => assert.equal(e.code, 0, `consumer ${i} failed: ${consumers[i].stderr.join("")}`));

    const got = consumers.map((c) => c.lines.filter((l) => l.startsWith("got ")).map((l) => l.split(" ")));
    t.diagnostic(`consumer A got ${got[0].length}, consumer B got ${got[1].length}`);
    const all = got.flat();
    assert.equal(new Set(all.map(([, id]) => id)).size, all.length, "a message was delivered twice");
    assert.equal(all.length, total);
    assert.ok(all.every(([, , count]) => count === "1"), "no message should have been redelivered");

    const reopened = openLocalStores(dir);
    try {
      assert.equal(await reopened.queue.depth(), 0);
    } finally {
      await reopened.close();
    }
  });
});
