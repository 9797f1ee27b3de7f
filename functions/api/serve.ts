// Serves the API app over HTTP with @hono/node-server (local and tests; Lambda uses
// hono/aws-lambda instead).
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export function listen(app: Hono<any>, port: number, hostname = "127.0.0.1"): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info: AddressInfo) =>
      resolve({
        url: `http://${hostname}:${info.port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    );
    server.once("error", reject);
  });
}
