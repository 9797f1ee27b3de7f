// Serves the API app over HTTP with @hono/node-server's request listener (local and tests;
// Lambda uses hono/aws-lambda instead). Every local endpoint is on this one server (the API,
// batch manifests, the discovery directory, the chat-ops webhook), and it closes as nginx
// does (lingering-close.ts): a client that sends its whole body before it reads still reads
// the 413 or 431.
import { getRequestListener } from "@hono/node-server";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";
import { errorBody } from "./errors.ts";
import { createLingeringServer, type LingerBounds } from "./lingering-close.ts";

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export function listen(app: Hono<any>, port: number, hostname = "127.0.0.1", linger?: Partial<LingerBounds>): Promise<Listening> {
  const { server, endLingering } = createLingeringServer(getRequestListener(app.fetch, { hostname }), {
    bounds: linger,
    // the parser's refusals in the API's (Magnum's) error envelope
    refusal: (status, title, detail) => errorBody(`req-${randomUUID()}`, status, title, detail),
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve({
        url: `http://${hostname}:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            endLingering();
          }),
      });
    });
  });
}
