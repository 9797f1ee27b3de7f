// The simulated nodes' network, with Linux network namespaces:
//   - a Neutron network is a namespace `bfsim-n-<net>` holding a bridge (br0): its L2 segment;
//   - a server is a namespace `bfsim-s-<server>` whose eth0 (a veth into that bridge) has
//     the port's fixed IP and MAC: the nodes of a bay reach each other (etcd peers through
//     the discovery URL, minions to the masters) exactly at their Neutron addresses, and each
//     node has its own loopback (every master's etcd listens on 127.0.0.1:2379);
//   - a load balancer's VIP sits on its network's bridge, and a forwarder there (forward.mjs)
//     passes VIP:port to the pool's members: a stand-in for the amphora's data plane, which
//     Octavia's noop drivers do not have.
// Names carry the first 12 hex digits of the ids after a prefix of the simulator's own
// (bfsim-<hash of its state dir>-), so that a restart sweeps what an earlier run of the same
// simulator left, and never another one's.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Frontend, Nic } from "./cloud.ts";

const FORWARD = join(import.meta.dirname, "sandbox", "forward.mjs");
const short = (id: string) => id.replaceAll("-", "").slice(0, 12).toLowerCase();

/** The namespace names of the simulator whose state is in `stateDir`. */
export function names(stateDir: string) {
  const prefix = `bfsim-${createHash("sha256").update(stateDir).digest("hex").slice(0, 6)}-`;
  return {
    prefix,
    segment: (networkId: string) => `${prefix}n-${short(networkId)}`,
    server: (serverId: string) => `${prefix}s-${short(serverId)}`,
  };
}
export type Names = ReturnType<typeof names>;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.trim() || err.message}`)) : resolve(stdout)));
  });
}
const ip = (...args: string[]) => run("ip", args);

/** The network namespaces whose name starts with `prefix`. */
export async function namespaces(prefix: string): Promise<string[]> {
  return (await ip("netns", "list")).split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(prefix));
}

/** Kills whatever still runs in a namespace and deletes it. */
export async function deleteNamespace(ns: string): Promise<void> {
  const pids = (await ip("netns", "pids", ns).catch(() => "")).split("\n").filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* gone already */
    }
  }
  await ip("netns", "delete", ns).catch(() => undefined);
}

interface Segment {
  ns: string;
  /** the LB forwarder in it, and what it serves */
  forwarder?: ChildProcess;
  spec: string;
  /** VIP -> prefix length, on br0 */
  vips: Map<string, number>;
}

export class Network {
  private segments = new Map<string, Segment>();
  /** one change of the namespaces at a time (boots run concurrently; a segment is made once) */
  private queue: Promise<unknown> = Promise.resolve();

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  constructor(private readonly runDir: string, readonly names: Names) {
    mkdirSync(runDir, { recursive: true });
  }

  /** A network's segment: its namespace and bridge, made on first use. */
  private async segment(networkId: string): Promise<Segment> {
    let s = this.segments.get(networkId);
    if (s) return s;
    const ns = this.names.segment(networkId);
    if (!(await namespaces(ns)).includes(ns)) {
      await ip("netns", "add", ns);
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip("-n", ns, "link", "add", "br0", "type", "bridge");
      await ip("-n", ns, "link", "set", "br0", "up");
    }
    s = { ns, spec: "[]", vips: new Map() };
    this.segments.set(networkId, s);
    return s;
  }

  /** The server's namespace, its NICs plugged into their networks' bridges. Returns the namespace's name. */
  plug(serverId: string, nics: Nic[]): Promise<string> {
    return this.serial(() => this.plugNow(serverId, nics));
  }

  private async plugNow(serverId: string, nics: Nic[]): Promise<string> {
    const ns = this.names.server(serverId);
    await deleteNamespace(ns);
    await ip("netns", "add", ns);
    await ip("-n", ns, "link", "set", "lo", "up");
    for (const [i, nic] of nics.entries()) {
      const seg = await this.segment(nic.networkId);
      const outside = `v${short(serverId)}${i}`;
      await ip("-n", seg.ns, "link", "add", outside, "type", "veth", "peer", "name", `eth${i}`, "netns", ns);
      await ip("-n", seg.ns, "link", "set", outside, "master", "br0", "up");
      await ip("-n", ns, "link", "set", `eth${i}`, "address", nic.mac).catch(() => undefined);
      await ip("-n", ns, "addr", "add", `${nic.ip}/${nic.prefix}`, "dev", `eth${i}`);
      await ip("-n", ns, "link", "set", `eth${i}`, "up");
    }
    return ns;
  }

  /** Removes the server's namespace (its veths go with it). */
  unplug(serverId: string): Promise<void> {
    return this.serial(() => deleteNamespace(this.names.server(serverId)));
  }

  /**
   * Serves the load balancers' listeners on the segments that have nodes: VIPs on the
   * bridge, forwarders to the members. Segments without servers left (`inUse`) go away.
   */
  reconcile(frontends: Frontend[] | undefined, inUse: () => Set<string>): Promise<void> {
    // inUse is read when the change runs, not when it is asked for: a boot that plugged its
    // server in between must keep its segment (reading it early deleted the new veths)
    return this.serial(() => this.reconcileNow(frontends, inUse()));
  }

  /** frontends undefined: Octavia did not answer; the VIPs keep what they serve. */
  private async reconcileNow(frontends: Frontend[] | undefined, inUse: Set<string>): Promise<void> {
    for (const networkId of inUse) await this.segment(networkId);
    for (const [networkId, seg] of this.segments) {
      if (!inUse.has(networkId)) {
        seg.forwarder?.kill("SIGKILL");
        await deleteNamespace(seg.ns);
        this.segments.delete(networkId);
        continue;
      }
      if (!frontends) continue;
      const mine = frontends.filter((f) => f.networkId === networkId && f.members.length);
      const vips = new Map(mine.map((f) => [f.vip, f.prefix]));
      for (const [vip, prefix] of vips) {
        if (!seg.vips.has(vip)) {
          await ip("-n", seg.ns, "addr", "add", `${vip}/${prefix}`, "dev", "br0").catch((e) => {
            if (!/File exists/.test(e.message)) throw e;
          });
          seg.vips.set(vip, prefix);
        }
      }
      for (const [vip, prefix] of [...seg.vips]) {
        if (!vips.has(vip)) {
          await ip("-n", seg.ns, "addr", "del", `${vip}/${prefix}`, "dev", "br0").catch(() => undefined);
          seg.vips.delete(vip);
        }
      }
      const spec = JSON.stringify(mine.map((f) => ({ host: f.vip, port: f.port, to: f.members })).sort((a, b) => `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`)));
      if (spec === seg.spec && (seg.forwarder?.exitCode ?? null) === null) continue;
      const specFile = join(this.runDir, `${seg.ns}.json`);
      writeFileSync(specFile, spec);
      seg.spec = spec;
      if (seg.forwarder && seg.forwarder.exitCode === null) {
        seg.forwarder.kill("SIGHUP");
      } else if (mine.length) {
        const ready = join(this.runDir, `${seg.ns}.ready`);
        rmSync(ready, { force: true });
        const log = join(this.runDir, `${seg.ns}.log`);
        seg.forwarder = spawn("ip", ["netns", "exec", seg.ns, process.execPath, FORWARD, specFile, ready], { stdio: ["ignore", "ignore", "pipe"] });
        seg.forwarder.stderr?.on("data", (b: Buffer) => writeFileSync(log, b, { flag: "a" }));
      }
    }
  }

  /** What the load-balancer forwarders said (for the daemon's log). */
  forwarderLog(networkId: string): string {
    const log = join(this.runDir, `${this.names.segment(networkId)}.log`);
    return existsSync(log) ? readFileSync(log, "utf8") : "";
  }

  /** Stops every forwarder and deletes every namespace of this simulator (servers' too). */
  teardown(): Promise<void> {
    return this.serial(() => this.teardownNow());
  }

  private async teardownNow(): Promise<void> {
    for (const seg of this.segments.values()) seg.forwarder?.kill("SIGKILL");
    this.segments.clear();
    for (const ns of await namespaces(this.names.prefix)) await deleteNamespace(ns);
  }
}
