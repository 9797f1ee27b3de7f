// A node:http server that closes like nginx's lingering_close. When a server answers before
// it has read the whole request (a 413 decided from Content-Length, a 431 from the parser)
// and then closes, the kernel answers whatever the client still sends with a reset, and a
// reset can destroy the answer before the client reads it: a client that writes its whole
// body before reading (Python's urllib and requests, curl -T, most SDKs) sees EPIPE or
// ECONNRESET instead of the 413. Node does just that (its server destroys the socket right
// after a `Connection: close` answer, and after a parse error). So here: the answer, then a
// FIN, then read and discard what still comes, up to a bound in bytes and time; then close.
import { createServer, maxHeaderSize, ServerResponse, STATUS_CODES, type IncomingMessage, type RequestListener, type Server } from "node:http";
import type { Socket } from "node:net";

export interface LingerBounds {
  /** most bytes read and thrown away after the answer */
  maxBytes: number;
  /** most time from the answer to the close */
  maxMs: number;
  /** most time with nothing read */
  idleMs: number;
}

/** nginx's lingering_time (30 s) and lingering_timeout (5 s); 64 MiB as @hono/node-server's own drain. */
export const DEFAULT_LINGER: LingerBounds = { maxBytes: 64 * 1024 * 1024, maxMs: 30_000, idleMs: 5_000 };

export interface LingeringServerOptions {
  bounds?: Partial<LingerBounds>;
  /** the JSON body of the answer to a request node's parser refused (431 for headers or a URL over its limit, else 400) */
  refusal?: (status: number, title: string, detail: string) => unknown;
}

export interface LingeringServer {
  server: Server;
  /** closes the connections still lingering (a server's close() would wait for them) */
  endLingering(): void;
}

export function createLingeringServer(listener: RequestListener, o: LingeringServerOptions = {}): LingeringServer {
  const bounds = { ...DEFAULT_LINGER, ...o.bounds };
  const lingering = new Map<Socket, () => void>(); // socket → its progress check
  const refusal = o.refusal ?? ((status: number, title: string, detail: string) => ({ status, title, detail }));

  // An answer written before the request is all in says `Connection: close`: the rest of the
  // body is not read as a request's, so the connection cannot carry another one.
  class ClosingResponse extends ServerResponse {
    override writeHead(...args: unknown[]): this {
      const socket = this.socket;
      if (!this.req.complete && socket) {
        this.shouldKeepAlive = false;
        socket.destroySoon = () => linger(socket, bounds, lingering, this.req); // node calls it once the answer is written
      }
      return (super.writeHead as (...a: unknown[]) => this)(...args);
    }
  }

  const server = createServer({ ServerResponse: ClosingResponse }, (req, res) => {
    // a request pipelined behind a refused one is not served: lingering reads, never answers
    const progress = lingering.get(req.socket);
    if (progress) return discard(req, progress);
    listener(req, res);
  });

  // Node's own answer to a parse error is a bare status and a destroy (the reset again).
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const progress = lingering.get(socket);
    if (progress) return progress(); // the parser, in error, throws away what a lingering connection sends
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const title = STATUS_CODES[status]!;
    const detail =
      status === 431
        ? `The request's headers or URL exceed the server's limit of ${maxHeaderSize} bytes.`
        : status === 408
          ? "The request did not arrive in time."
          : `The request is not valid HTTP (${err.code ?? "parse error"}).`;
    const body = JSON.stringify(refusal(status, title, detail));
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // a client too slow to send its request is not waited for any longer
    if (status === 408) socket.destroySoon();
    else linger(socket, bounds, lingering);
  });

  return {
    server,
    endLingering: () => {
      for (const s of lingering.keys()) s.destroy();
    },
  };
}

/**
 * Half-closes `socket` after what is written, then reads and discards until the client closes
 * or a bound is reached. The bytes go on through node's HTTP parser, which reads the socket
 * itself: into `req`, resumed here, and after a parse error into nothing (each chunk is one
 * more 'clientError'); what comes after the body is a request that is not served.
 */
function linger(socket: Socket, b: LingerBounds, lingering: Map<Socket, () => void>, req?: IncomingMessage): void {
  if (lingering.has(socket) || socket.destroyed) return;
  const start = socket.bytesRead;
  const close = () => socket.destroy();
  const total = setTimeout(close, b.maxMs);
  const idle = setTimeout(close, b.idleMs);
  const progress = () => {
    if (socket.bytesRead - start > b.maxBytes) close();
    else idle.refresh();
  };
  lingering.set(socket, progress);
  socket.once("end", close); // the client is done sending
  socket.once("close", () => {
    clearTimeout(total);
    clearTimeout(idle);
    lingering.delete(socket);
  });
  if (req) discard(req, progress);
  socket.end();
}

function discard(req: IncomingMessage, progress: () => void): void {
  req.removeAllListeners("data");
  req.on("data", progress);
  req.resume();
}
