// TCP forwarders inside a network namespace (scripts/devcloud/node-simulator/): a listener
// per {host, port} that pipes each connection
//   - to a unix socket ({socket}) of a process in the machine's own namespace: unix sockets
//     are files, so they cross network namespaces; this is how a node reaches Bayforge, Heat
//     and Keystone at the very addresses and ports its user_data names;
//   - or to one of several TCP targets ({to: [{host, port}]}), taken in turn, the next one
//     when a target refuses: the node simulator's stand-in for a load balancer's data plane.
// Writes <ready file> once every listener is up; SIGHUP re-reads the spec (listeners that
// stay keep their connections).
//   node forward.mjs SPEC.json READY_FILE
import { readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";

const [specFile, readyFile] = process.argv.slice(2);
/** "host:port" -> { server, spec, next } */
const listeners = new Map();

function pipe(inbound, outbound) {
  inbound.pipe(outbound).pipe(inbound);
  const close = () => {
    inbound.destroy();
    outbound.destroy();
  };
  inbound.on("error", close);
  outbound.on("error", close);
  inbound.on("close", close);
  outbound.on("close", close);
}

function dial(entry, inbound) {
  const { spec } = entry;
  if (spec.socket) return pipe(inbound, connect(spec.socket));
  const targets = spec.to ?? [];
  let tried = 0;
  const attempt = () => {
    if (tried++ >= targets.length) return inbound.destroy();
    const t = targets[entry.next++ % targets.length];
    const outbound = connect({ host: t.host, port: t.port, timeout: 3000 });
    const refused = () => {
      outbound.destroy();
      attempt();
    };
    outbound.once("error", refused);
    outbound.once("timeout", refused);
    outbound.once("connect", () => {
      outbound.removeListener("error", refused);
      outbound.removeListener("timeout", refused);
      outbound.setTimeout(0);
      pipe(inbound, outbound);
    });
  };
  inbound.pause();
  inbound.on("error", () => inbound.destroy());
  attempt();
}

async function load() {
  const specs = JSON.parse(readFileSync(specFile, "utf8"));
  const wanted = new Map(specs.map((s) => [`${s.host}:${s.port}`, s]));
  for (const [key, entry] of listeners) {
    if (!wanted.has(key)) {
      entry.server.close();
      listeners.delete(key);
    }
  }
  await Promise.all(
    [...wanted].map(([key, spec]) => {
      const known = listeners.get(key);
      if (known) {
        known.spec = spec;
        return undefined;
      }
      const entry = { spec, next: 0, server: undefined };
      entry.server = createServer((inbound) => dial(entry, inbound));
      listeners.set(key, entry);
      return new Promise((resolve, reject) => {
        entry.server.once("error", (e) => {
          listeners.delete(key);
          reject(e);
        });
        entry.server.listen(spec.port, spec.host, resolve);
      });
    }),
  );
}

await load();
writeFileSync(readyFile, "ready\n");
process.on("SIGHUP", () => {
  load().then(
    () => writeFileSync(readyFile, `reloaded ${new Date().toISOString()}\n`),
    (e) => console.error(`forward.mjs: reload failed: ${e.message}`),
  );
});
