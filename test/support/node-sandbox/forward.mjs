// Runs inside the node sandbox's network namespace (test/support/node-sandbox.ts): a TCP
// listener per {host, port} that pipes each connection to a unix socket of the test
// process, which lives in the machine's own namespace. Unix sockets are files, so they
// cross network namespaces; this is how the node reaches Bayforge and the test's servers
// at the very addresses the stack gave it. Writes <ready file> once every listener is up.
import { readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";

const [specFile, readyFile] = process.argv.slice(2);
const forwards = JSON.parse(readFileSync(specFile, "utf8"));
await Promise.all(
  forwards.map(
    ({ host, port, socket }) =>
      new Promise((resolve, reject) => {
        const server = createServer((inbound) => {
          const outbound = connect(socket);
          inbound.pipe(outbound).pipe(inbound);
          const close = () => {
            inbound.destroy();
            outbound.destroy();
          };
          inbound.on("error", close);
          outbound.on("error", close);
        });
        server.once("error", reject);
        server.listen(port, host, resolve);
      }),
  ),
);
writeFileSync(readyFile, "ready\n");
