// SQS on fauxqs (an SQS-compatible server, in memory), listening on 127.0.0.1 only:
// fauxqs's own startFauxqs() listens on every interface, so its app is built here on stores
// made here (buildApp's documented `stores` option), and the queues are created and inspected
// on those stores, as startFauxqs's createQueue and inspectQueue do.
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AddressInfo } from "node:net";
import { buildApp } from "fauxqs";

const dist = dirname(fileURLToPath(import.meta.resolve("fauxqs")));
const load = async (file: string) => import(pathToFileURL(join(dist, file)).href);
const { SqsStore } = await load("sqs/sqsStore.js");
const { SnsStore } = await load("sns/snsStore.js");
const { S3Store } = await load("s3/s3Store.js");

export interface QueueInspection {
  messages: {
    ready: FauxMessage[];
    delayed: FauxMessage[];
    inflight: Array<{ message: FauxMessage }>;
  };
}
export interface FauxMessage {
  body: string;
  messageAttributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  delayUntil?: number;
}

export interface SqsServer {
  /** the endpoint, and the base of every queue URL (<endpoint>/<account>/<name>) */
  endpoint: string;
  createQueue(name: string, url: string, arn: string, attributes: Record<string, string>): void;
  inspectQueue(name: string): QueueInspection | undefined;
  stop(): Promise<void>;
}

export async function startSqs(region: string): Promise<SqsServer> {
  const sqsStore = new SqsStore();
  const app = buildApp({ logger: false, defaultRegion: region, stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() } });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const endpoint = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    endpoint,
    createQueue: (name, url, arn, attributes) => sqsStore.createQueue(name, url, arn, attributes),
    inspectQueue: (name) => sqsStore.inspectQueue(name),
    stop: () => app.close(),
  };
}
