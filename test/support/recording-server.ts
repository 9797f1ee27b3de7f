// A plain HTTP server on a unix socket that records every request and answers with what
// the test says: where a node sandbox (test/support/node-sandbox.ts) sends its wait-condition
// signal (no real WaitConditionHandle exists on the dev cloud) and fetches package keys.
import { createServer } from "node:http";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RecordingServer {
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingServer(socket: string, answer: (r: RecordedRequest) => { status: number; body?: string | Buffer }): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(r);
      const a = answer(r);
      res.writeHead(a.status);
      res.end(a.body ?? "");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, resolve);
  });
  return { requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
