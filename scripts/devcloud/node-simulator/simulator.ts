// The node simulator's work: each server that goes ACTIVE in Nova boots once, from the
// user_data Nova holds, in a node sandbox on its Neutron addresses (network.ts), and stays
// up (etcd and the API stand-in keep serving the bay) until Nova deletes it. The last part
// of a bay node's user_data signals its Heat wait condition itself, through the handle's
// URL: the simulator only runs what a cloud-init would.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server as NetServer } from "node:net";
import { join } from "node:path";
import { bootNode, type NodeBoot } from "./sandbox.ts";
import type { BootInfo, Cloud, Nic, Server } from "./cloud.ts";
import { Network, names, namespaces, deleteNamespace } from "./network.ts";
import { heatParams, loopbackPorts, readUserData, type Script } from "./user-data.ts";

export interface SimulatorOptions {
  /** the dev cloud's state dir: state in <dir>/node-simulator, node logs in <dir>/logs/nodes */
  dir: string;
  /** boots running their parts at once */
  concurrency: number;
  /** a node's parts must finish within this (then the node is killed and its wait condition times out) */
  bootTimeoutMs: number;
  log: (msg: string) => void;
}

interface Booted {
  name: string;
  at: string;
  /** "booting", "SUCCESS", "FAILURE: reason", "no user_data", "error: ..." */
  result: string;
  networks?: string[];
}

interface Pending {
  server: Server;
  /** what cloud-init sets: Nova's hostname for the server */
  hostname: string;
  scripts: Script[];
  params: Record<string, string>;
}

const KUBE_API = readFileSync(join(import.meta.dirname, "sandbox", "kube-api.mjs"), "utf8");
/** Where the sandbox's stand-in Kubernetes API answers, on a master. */
const API_HOOK = `#!/bin/bash
# kubeadm init / join on a master: from now on this master serves the Kubernetes API (a
# stand-in: no kube-apiserver runs here).
. /etc/sysconfig/heat-params
case "\${1:-}" in init | join) ;; *) exit 0 ;; esac
[ "$NODE_ROLE" = master ] || exit 0
pki=/etc/kubernetes/pki
setsid /usr/bin/node /usr/local/lib/standins/kube-api.mjs --port 6443 --cert $pki/apiserver.crt --key $pki/apiserver.key --ca $pki/ca.crt --version "$KUBE_TAG" </dev/null >>/var/log/kube-api-standin.log 2>&1 &
for _ in $(seq 100); do
  curl -ksf -o /dev/null https://127.0.0.1:6443/healthz && exit 0
  sleep 0.1
done
echo "the Kubernetes API stand-in did not start (see /var/log/kube-api-standin.log)" >&2
exit 1
`;
const INSECURE_HOOK = `#!/bin/bash
. /etc/sysconfig/heat-params
exec /usr/bin/node /usr/local/lib/standins/kube-api.mjs --plain --port "$KUBE_API_PORT" --version "$KUBE_TAG"
`;
const ETCD_HOOK = "#!/bin/bash\nexec /usr/bin/etcd --config-file=/etc/etcd/etcd.conf.yml\n";
/**
 * The node agent's timer (install-node-agent.sh enables bayforge-agent.timer; no systemd
 * here): one agent run every BAYFORGE_SIM_AGENT_SECONDS (default 10 s) while the node is up.
 */
const AGENT_TIMER_HOOK = `#!/bin/bash
while :; do /usr/local/sbin/bayforge-agent >/dev/null 2>&1; sleep ${Math.max(Number(process.env.BAYFORGE_SIM_AGENT_SECONDS) || 10, 1)}; done
`;
/**
 * kubectl's stand-in: \`get node\` shows the version the node's packages are at (the last
 * kubeadm "install") and Ready, as the API would once the kubelet restarted on it.
 */
const KUBECTL_HOOK = `#!/bin/bash
for a in "$@"; do if [ "$a" = get ]; then echo "v$(cat /usr/local/lib/standins/kube-version) True"; exit 0; fi; done
exit 0
`;

/** Nova's hostname for a display name (nova.utils.sanitize_hostname), as cloud-init gets it from the metadata. */
export function hostnameOf(name: string, id: string): string {
  const h = name.replace(/[ _.]/g, "-").replace(/[^\w.-]+/g, "").toLowerCase().slice(0, 63).replace(/^[.-]+|[.-]+$/g, "");
  return h || `server-${id.slice(0, 8)}`;
}

export class NodeSimulator {
  private readonly state: string;
  private readonly nodesDir: string;
  private readonly logsDir: string;
  private readonly network: Network;
  private booted: Record<string, Booted>;
  private readonly pending: Pending[] = [];
  /** servers whose parts are running */
  private readonly running = new Map<string, Promise<void>>();
  /** nodes up (booting or booted) in this run */
  private readonly nodes = new Map<string, NodeBoot | undefined>();
  /** server id -> its networks, for the segments in use */
  private readonly nets = new Map<string, string[]>();
  private readonly gone = new Set<string>();
  private readonly bridges = new Map<number, NetServer>();
  private stopping = false;
  private octaviaError = "";

  /** the names of this simulator's namespaces */
  get names() {
    return this.network.names;
  }

  constructor(private readonly cloud: Cloud, private readonly o: SimulatorOptions) {
    this.state = join(o.dir, "node-simulator");
    this.nodesDir = join(this.state, "nodes");
    this.logsDir = join(o.dir, "logs", "nodes");
    for (const d of [this.nodesDir, this.logsDir, join(this.state, "run")]) mkdirSync(d, { recursive: true });
    this.network = new Network(join(this.state, "run"), names(this.state));
    const file = join(this.state, "booted.json");
    this.booted = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  }

  private save(): void {
    const file = join(this.state, "booted.json");
    writeFileSync(`${file}.tmp`, JSON.stringify(this.booted, null, 1));
    renameSync(`${file}.tmp`, file);
  }

  /**
   * After a restart: nodes an earlier run left up stay up (their namespaces hold them);
   * what belongs to no remembered server goes, and the segments' old forwarders are killed
   * (reconcile starts new ones).
   */
  async adopt(): Promise<void> {
    const keep = new Set<string>();
    const n = this.network.names;
    const existing = await namespaces(n.prefix);
    for (const [id, b] of Object.entries(this.booted)) {
      if (!existing.includes(n.server(id))) continue;
      keep.add(n.server(id));
      // its forwarders reach the host through this daemon's sockets: serve them again
      const spec = join(this.nodesDir, id, "work", "forwards.json");
      if (existsSync(spec)) for (const f of JSON.parse(readFileSync(spec, "utf8")) as Array<{ port: number }>) await this.bridge(f.port);
      this.nodes.set(id, undefined);
      this.nets.set(id, b.networks ?? []);
      for (const net of b.networks ?? []) keep.add(n.segment(net));
    }
    for (const ns of existing) {
      if (!keep.has(ns)) await deleteNamespace(ns);
      else if (ns.startsWith(`${n.prefix}n-`)) {
        for (const pid of execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split("\n").filter(Boolean)) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            /* gone */
          }
        }
      }
    }
    for (const id of Object.keys(this.booted)) if (this.booted[id].result === "booting") this.booted[id].result = "interrupted by a restart of the simulator";
    this.save();
    if (keep.size) this.o.log(`adopted ${this.nodes.size} node(s) left up by an earlier run`);
  }

  /** One round: follow Nova, start what may start, serve the load balancers. */
  async tick(): Promise<void> {
    const servers = await this.cloud.servers();
    const byId = new Map(servers.map((s) => [s.id, s]));
    // Gone from Nova (deleted): abandon and clean up.
    for (const id of new Set([...Object.keys(this.booted), ...this.nodes.keys()])) {
      if (!byId.has(id)) await this.forget(id);
    }
    for (const s of servers) {
      if (s.status !== "ACTIVE" || this.booted[s.id] || this.pending.some((p) => p.server.id === s.id)) continue;
      await this.discover(s);
    }
    this.startPending();
    const inUse = () => new Set([...this.nets.values()].flat());
    if (inUse().size) {
      const frontends = await this.cloud.frontends().then(
        (f) => {
          this.octaviaError = "";
          return f;
        },
        (e) => {
          // said once, until it changes: Octavia may be restarting
          if (e.message !== this.octaviaError) this.o.log(`cannot read Octavia's load balancers (the VIPs keep their last members): ${e.message}`);
          this.octaviaError = e.message;
          return undefined;
        },
      );
      await this.network.reconcile(frontends, inUse);
    } else {
      await this.network.reconcile([], inUse);
    }
  }

  private record(s: Server, result: string, networks?: string[]): void {
    this.booted[s.id] = { name: s.name, at: new Date().toISOString(), result, ...(networks ? { networks } : {}) };
    this.save();
    if (!result.startsWith("booting")) this.o.log(`server ${s.name} (${s.id}): ${result}`);
  }

  /** A new ACTIVE server: read its user_data, queue it (masters first). */
  private async discover(s: Server): Promise<void> {
    let info: BootInfo | undefined;
    try {
      info = await this.cloud.bootInfo(s.id);
    } catch (e) {
      // Nova may be busy: the next round asks again
      return this.o.log(`server ${s.name} (${s.id}): cannot read its user_data yet: ${(e as Error).message}`);
    }
    if (info === undefined) return; // deleted meanwhile
    if (info.userData === null) return this.record(s, "no user_data: nothing to run");
    let parsed: ReturnType<typeof readUserData>;
    try {
      parsed = readUserData(info.userData);
    } catch (e) {
      return this.record(s, `error: ${(e as Error).message}`);
    }
    const { scripts, skipped } = parsed;
    if (skipped.length) this.o.log(`server ${s.name}: cloud-init would handle ${skipped.join(", ")}; the simulator runs shell scripts only`);
    if (!scripts.length) return this.record(s, "no shell script in user_data: nothing to run");
    const params = heatParams(scripts);
    this.record(s, "booting (queued)");
    const item = { server: s, scripts, params, hostname: hostnameOf(info.hostname ?? s.name, s.id) };
    const firstMinion = this.pending.findIndex((p) => p.params.NODE_ROLE !== "master");
    if (params.NODE_ROLE === "master" && firstMinion >= 0) this.pending.splice(firstMinion, 0, item);
    else this.pending.push(item);
  }

  private startPending(): void {
    while (!this.stopping && this.running.size < this.o.concurrency && this.pending.length) {
      const p = this.pending.shift()!;
      const run = this.boot(p)
        .catch((e) => {
          if (this.gone.has(p.server.id)) this.o.log(`server ${p.server.name} (${p.server.id}) was deleted while booting: abandoned`);
          else this.record(p.server, `error: ${e.message.split("\n")[0]}`, this.nets.get(p.server.id));
        })
        .finally(() => {
          this.running.delete(p.server.id);
          this.startPending();
        });
      this.running.set(p.server.id, run);
    }
  }

  /** A unix socket in the host's namespace that reaches 127.0.0.1:port (a node's forwarders use it). */
  private async bridge(port: number): Promise<string> {
    const socket = join(this.state, "run", `host-${port}.sock`);
    if (this.bridges.has(port)) return socket;
    rmSync(socket, { force: true });
    const server = createServer((inbound) => {
      const outbound = connect(port, "127.0.0.1");
      inbound.pipe(outbound).pipe(inbound);
      inbound.on("error", () => outbound.destroy());
      outbound.on("error", () => inbound.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socket, resolve);
    });
    this.bridges.set(port, server);
    return socket;
  }

  private async boot({ server: s, scripts, params, hostname }: Pending): Promise<void> {
    const started = Date.now();
    let nics: Nic[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        nics = await this.cloud.nics(s.id);
        break;
      } catch (e) {
        if (attempt === 5 || this.gone.has(s.id)) throw e;
        await new Promise((r) => setTimeout(r, 2000 * attempt));
      }
    }
    if (!nics.length) throw new Error("the server has no port with an IPv4 address in Neutron");
    const networks = [...new Set(nics.map((n) => n.networkId))];
    this.nets.set(s.id, networks);
    this.record(s, "booting", networks);
    if (this.gone.has(s.id)) throw new Error("gone");
    const ns = await this.network.plug(s.id, nics);
    const consoleLog = join(this.logsDir, `${hostname.slice(0, 40)}-${s.id.slice(0, 8)}.log`);
    writeFileSync(consoleLog, `${new Date().toISOString()} node simulator: booting server ${s.name} (${s.id}), project ${s.projectId}, ${nics.map((n) => `${n.ip}/${n.prefix}`).join(" ")}, role ${params.NODE_ROLE ?? "?"}\n`);
    const forwards = await Promise.all(loopbackPorts(scripts).map(async (port) => ({ host: "127.0.0.1", port, socket: await this.bridge(port) })));
    const kube = /^v?(\d+\.\d+\.\d+)$/.exec(params.KUBE_TAG ?? "")?.[1];
    const volume = params.DOCKER_VOLUME ?? "";
    const boot = bootNode({
      hostname,
      addresses: [],
      netns: ns,
      forwards,
      parts: scripts.map((p) => p.body),
      // the node image carries kubeadm, kubelet and containerd at the bay's kube_tag (stand-ins)
      kubeVersion: kube,
      // the bay's Cinder volume, under the name Nova gives it (no Cinder here: a sparse file)
      disks: volume ? { [`/dev/disk/by-id/virtio-${volume.slice(0, 20).replace(/[^A-Za-z0-9-]/g, "")}`]: 64 << 20 } : {},
      serviceHooks: { etcd: ETCD_HOOK, "kube-api-insecure": INSECURE_HOOK, "bayforge-agent.timer": AGENT_TIMER_HOOK },
      commandHooks: { kubeadm: API_HOOK, kubectl: KUBECTL_HOOK },
      files: { "/usr/local/lib/standins/kube-api.mjs": KUBE_API },
      keepRunning: true,
      consoleLog,
      dir: join(this.nodesDir, s.id),
      timeoutMs: this.o.bootTimeoutMs,
    });
    this.nodes.set(s.id, undefined);
    const node = await boot;
    if (this.gone.has(s.id)) {
      await node.stop();
      throw new Error("gone");
    }
    this.nodes.set(s.id, node);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const failed = node.exists("/var/lib/bayforge/failed") ? node.read("/var/lib/bayforge/failed").trim() : "";
    const last = node.parts.at(-1);
    const outcome = failed ? `FAILURE: ${failed}` : node.parts.every((p) => p.exitCode === 0) ? "SUCCESS" : `FAILURE: parts exited ${node.parts.map((p) => `${p.name}=${p.exitCode}`).join(" ")}`;
    const signalled = last && /wc-notify: (SUCCESS|FAILURE)/.test(last.output) ? `signal ${last.exitCode === 0 ? "sent" : "NOT delivered"}` : "no wait-condition signal part";
    writeFileSync(consoleLog, `${new Date().toISOString()} node simulator: parts done in ${seconds} s: ${outcome} (${signalled})\n`, { flag: "a" });
    this.record(s, `${outcome} (${signalled}; boot ${seconds} s)`, networks);
  }

  /** A server Nova no longer has: stop its node (even mid-boot), remove its namespace and files. */
  private async forget(id: string): Promise<void> {
    this.gone.add(id);
    const queued = this.pending.findIndex((p) => p.server.id === id);
    if (queued >= 0) this.pending.splice(queued, 1);
    const node = this.nodes.get(id);
    await this.network.unplug(id);
    await node?.stop();
    await this.running.get(id)?.catch(() => undefined);
    this.nodes.delete(id);
    this.nets.delete(id);
    const dir = join(this.nodesDir, id);
    if (existsSync(dir)) {
      if (readFileSync("/proc/mounts", "utf8").includes(` ${dir}/`)) this.o.log(`server ${id}: its node still has mounts; leaving ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    }
    if (this.booted[id]) {
      this.o.log(`server ${this.booted[id].name} (${id}) is gone from Nova: node stopped and removed`);
      delete this.booted[id];
      this.save();
    }
  }

  /** Stops every node and namespace (the dev cloud is going down). Booted servers stay remembered. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.pending.length = 0;
    for (const node of this.nodes.values()) void node?.stop();
    await this.network.teardown();
    for (const b of this.bridges.values()) b.close();
  }
}
