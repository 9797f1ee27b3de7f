// A separate process on the local stores, driven by test/integration/local-stores.test.ts:
//   produce <dataDir>          create bays and send messages forever, printing each one
//                              only after its call resolved ("bay <uuid>", "msg <requestId>")
//   consume <dataDir> <batch>  after "go" on stdin, receive (visibility 300 s) until the
//                              queue is dry, printing "got <id> <receiveCount>" and deleting;
//                              holds its first batch ("holding") until "more" on stdin, so
//                              that the test can have two consumers at work at once
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { openLocalStores } from "../../shared/adapters/local/index.ts";
import { sampleBay } from "./bay-table-contract.ts";
import { sampleMessage } from "./work-queue-contract.ts";

const [mode, dataDir, arg] = process.argv.slice(2);
if (!dataDir) throw new Error("usage: local-stores-child.ts produce|consume <dataDir> [batch]");
const stores = openLocalStores(dataDir);
const out = (line: string) => process.stdout.write(`${line}\n`);

if (mode === "produce") {
  out("ready");
  for (let i = 0; ; i++) {
    const bay = sampleBay({ name: `crash-${i}` });
    await stores.table.createBay(bay);
    out(`bay ${bay.uuid}`);
    const message = sampleMessage({ bayId: bay.uuid, projectId: bay.project_id, requestId: bay.uuid });
    await stores.queue.send(message);
    out(`msg ${message.requestId}`);
  }
} else if (mode === "consume") {
  const batch = Number(arg ?? 1);
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const waitFor = async (word: string) => {
    for (let r; !(r = await lines.next()).done; ) if (r.value.trim() === word) return;
    throw new Error(`stdin ended before "${word}"`);
  };
  out("ready");
  await waitFor("go");
  for (let first = true; ; first = false) {
    const got = await stores.queue.receive(batch, 300);
    if (!got.length) break;
    for (const m of got) out(`got ${m.id} ${m.receiveCount}`);
    if (first) {
      out("holding");
      await waitFor("more");
    }
    for (const m of got) {
      await sleep(1); // "work": gives the other consumer time to run in between
      await stores.queue.delete(m.receipt);
    }
  }
  await stores.close();
  out("done");
} else {
  throw new Error(`unknown mode ${mode}`);
}
