// A stand-in for a cloud server booting a bay node, on this machine: the parts of the node's
// user_data (a MultipartMime as Heat renders it) run as root the way cloud-init runs them,
// inside `unshare --mount --uts --pid` and a chroot (sandbox/boot.sh):
//   - a network namespace: its own (`--net`, the node's private address on loopback), or
//     one the caller made (the node simulator: the node's fixed IP on a veth into its
//     network's bridge); in it, TCP forwarders from the addresses and ports the node was
//     given (magnum_url, a wait-condition URL, the API load balancer) to unix sockets of the
//     caller: the node reaches the real Bayforge API exactly where the stack told it to;
//   - its own hostname, its own processes (all killed when the node stops), and a root
//     filesystem of its own whose /usr is this machine's, read-only;
//   - recording stand-ins (sandbox/standin.sh) only for what cannot run here: apt-get
//     and apt-mark (whose "install" provides stand-in kubeadm, kubelet, kubectl, containerd,
//     ctr, crictl; or the "image" already carries them: kubeVersion), systemctl, modprobe,
//     sysctl, swapoff, mount. Everything else the fragments run is real: bash, curl,
//     openssl, python3, gpg, mkfs.ext4, blkid, and any service the caller hooks to
//     `systemctl start` (etcd, say) or to a stand-in command (`kubeadm init`, say).
// Used by the dev cloud's node simulator (main.ts) and by test/e2e/boot-fragments.test.ts.
import { spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const HERE = join(import.meta.dirname, "sandbox");

/** Commands replaced by the recording stand-in from the start (the rest come with "packages"). */
const STANDINS = ["apt-get", "apt-mark", "systemctl", "modprobe", "sysctl", "swapoff", "mount"];
/** What an image that already carries Kubernetes has on PATH (stand-ins too). */
const PRELOADED = ["kubeadm", "crictl", "kubelet", "kubectl", "containerd", "ctr"];
/** Host files a node's programs need (libraries' config, users, alternatives, TLS config). */
const ETC_COPIES = ["passwd", "group", "hosts", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "python3", "python3.11", "mke2fs.conf"];
const UBUNTU_OS_RELEASE = `PRETTY_NAME="Ubuntu 24.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.3 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n`;

export interface Forward {
  /** address and port the node connects to */
  host: string;
  port: number;
  /** unix socket of the caller that answers */
  socket: string;
}

export interface NodeSandboxOptions {
  hostname: string;
  /** put on the node's loopback: its private address first, then any it serves itself */
  addresses: string[];
  forwards: Forward[];
  /** the user_data parts, in order (cloud-init's part-001, part-002, ...) */
  parts: string[];
  /** files in the node's filesystem before it boots (absolute node paths; /usr/local/... too) */
  files?: Record<string, string | Buffer>;
  /** blank disks (a Cinder volume, say): /dev path (e.g. /dev/disk/by-id/virtio-…) → size in bytes */
  disks?: Record<string, number>;
  /** `systemctl start <unit>` runs this script in the node, in the background */
  serviceHooks?: Record<string, string>;
  /** a stand-in command (kubeadm, say) first runs this script with its arguments; its failure is the command's */
  commandHooks?: Record<string, string>;
  /** the image carries kubeadm, kubelet, kubectl, containerd at this version (e.g. "1.35.8"): no installs */
  kubeVersion?: string;
  /** a network namespace the caller made (the node's interfaces and addresses in it); default: a new one */
  netns?: string;
  /** keep the node up after the parts ran (its services keep serving) until stop() */
  keepRunning?: boolean;
  /** where the parts' output goes, as cloud-init-output.log (default: in the node's work dir) */
  consoleLog?: string;
  /** a directory of the caller's for the node's files (default: a new one under /tmp) */
  dir?: string;
  timeoutMs?: number;
}

export interface StandinCall {
  command: string;
  args: string[];
}

export interface NodeBoot {
  /** the node's root filesystem on this machine */
  root: string;
  /** each part's exit status and output, in order */
  parts: Array<{ name: string; exitCode: number; output: string }>;
  /** what the stand-ins were asked to do, in order */
  calls: StandinCall[];
  /** a file of the node (absolute node path) */
  read(path: string): string;
  exists(path: string): boolean;
  /** the machine path of a node path */
  hostPath(path: string): string;
  /** stops a node that keeps running (kills every process in it); resolves once it is gone */
  stop(): Promise<void>;
  /** removes the node's files (its mounts died with its namespaces) */
  remove(): void;
}

/** Writes the node's filesystem, the parts and the boot's work files under `base`. */
function prepare(base: string, o: NodeSandboxOptions): { root: string; work: string } {
  const root = join(base, "root");
  const work = join(base, "work");
  for (const d of ["usr", ".usr-local/sbin", ".usr-local/bin", ".usr-local/lib/standins/hooks", "proc", "dev", "etc", "var/log", "var/lib/cloud/instance/scripts", "run", "tmp", "root", "opt", "srv", "mnt", "home"])
    mkdirSync(join(root, d), { recursive: true });
  mkdirSync(work, { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  for (const [link, target] of [["bin", "usr/bin"], ["sbin", "usr/sbin"], ["lib", "usr/lib"], ["lib64", "usr/lib64"]]) symlinkSync(target, join(root, link));
  for (const f of ETC_COPIES) if (existsSync(join("/etc", f))) cpSync(join("/etc", f), join(root, "etc", f), { recursive: true, verbatimSymlinks: true });
  // What an Ubuntu 24.04 cloud image has in /etc that the fragments rely on.
  for (const d of ["apt/sources.list.d", "apt/apt.conf.d", "apt/keyrings", "modules-load.d", "sysctl.d", "systemd/system", "sysconfig"])
    mkdirSync(join(root, "etc", d), { recursive: true });
  writeFileSync(join(root, "etc/fstab"), "LABEL=cloudimg-rootfs\t/\text4\tdiscard,commit=30,errors=remount-ro\t0 1\n");
  writeFileSync(join(root, "etc/os-release"), UBUNTU_OS_RELEASE);
  writeFileSync(join(root, "etc/hostname"), `${o.hostname}\n`);

  const lib = join(root, ".usr-local/lib/standins");
  cpSync(join(HERE, "standin.sh"), join(lib, "standin"));
  chmodSync(join(lib, "standin"), 0o755);
  for (const c of STANDINS) symlinkSync("/usr/local/lib/standins/standin", join(root, ".usr-local/sbin", c));
  if (o.kubeVersion) {
    for (const c of PRELOADED) symlinkSync("/usr/local/lib/standins/standin", join(root, ".usr-local/bin", c));
    writeFileSync(join(lib, "kube-version"), `${o.kubeVersion}\n`);
  }
  for (const [unit, script] of Object.entries(o.serviceHooks ?? {})) writeFileSync(join(lib, "hooks", unit), script, { mode: 0o755 });
  for (const [command, script] of Object.entries(o.commandHooks ?? {})) writeFileSync(join(lib, "hooks", `command-${command}`), script, { mode: 0o755 });
  for (const [path, content] of Object.entries(o.files ?? {})) {
    // /usr/local is the node's own (mounted over this machine's /usr)
    const at = join(root, path.startsWith("/usr/local/") ? `.usr-local/${path.slice("/usr/local/".length)}` : path);
    mkdirSync(dirname(at), { recursive: true });
    writeFileSync(at, content);
  }
  o.parts.forEach((part, i) => {
    writeFileSync(join(root, "var/lib/cloud/instance/scripts", `part-${String(i + 1).padStart(3, "0")}`), part, { mode: 0o700 });
  });
  // A disk is a sparse file the node sees under its /dev name (mkfs and blkid work on it).
  const devLinks = Object.entries(o.disks ?? {}).map(([link, bytes], i) => {
    const image = `/var/lib/standins/disk-${i}.img`;
    mkdirSync(join(root, "var/lib/standins"), { recursive: true });
    writeFileSync(join(root, image), "");
    truncateSync(join(root, image), bytes);
    return `${link} ${image}\n`;
  });
  writeFileSync(join(work, "dev-links"), devLinks.join(""));
  writeFileSync(join(work, "forwards.json"), JSON.stringify(o.forwards));
  cpSync(join(HERE, "forward.mjs"), join(work, "forward.mjs"));
  if (o.keepRunning) writeFileSync(join(work, "KEEP_RUNNING"), "");
  if (o.consoleLog) writeFileSync(join(work, "console-path"), o.consoleLog);
  return { root, work };
}

/**
 * Boots a node in a sandbox; resolves once every part ran (the node still runs with
 * keepRunning), rejects when the boot itself breaks or takes longer than timeoutMs (the node
 * is killed then).
 */
export async function bootNode(o: NodeSandboxOptions): Promise<NodeBoot> {
  if (o.dir) mkdirSync(o.dir, { recursive: true });
  const base = o.dir ?? mkdtempSync(join(tmpdir(), "bf-node-"));
  const { root, work } = prepare(base, o);

  const boot = join(HERE, "boot.sh");
  const unshare = ["--mount", "--uts", "--pid", "--fork", "--kill-child", "--propagation", "private", "bash", boot, root, work, o.hostname, ...o.addresses];
  // `ip netns exec` execs unshare (no fork): killing this pid kills the node.
  const [command, args] = o.netns ? ["ip", ["netns", "exec", o.netns, "unshare", ...unshare]] : ["unshare", ["--net", ...unshare]];
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" } });
  let output = "";
  const keep = (b: Buffer) => {
    if (output.length < 64 << 10) output += b.toString("utf8");
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ? null : code));
    child.once("error", (e) => {
      output += e.message;
      resolve(-1);
    });
  });
  let running = true;
  void exited.then(() => (running = false));
  const stop = async () => {
    if (running) child.kill("SIGKILL");
    await exited;
  };

  const partsDone = join(work, "parts-done");
  const timeoutMs = o.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(partsDone) && (o.keepRunning || !running)) break;
    if (!running) {
      const code = await exited;
      throw new Error(`node sandbox ${o.hostname} failed (exit ${code}) before its parts finished:\n${output.slice(0, 4000)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`node sandbox ${o.hostname} timed out after ${timeoutMs} ms (killed)\n${output.slice(0, 4000)}`);
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 250))]);
  }

  const exitCodes = new Map(
    readFileSync(join(work, "exit-codes"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" ") as [string, string]),
  );
  const parts = readdirSync(join(root, "var/lib/cloud/instance/scripts"))
    .sort()
    .map((name) => ({ name, exitCode: Number(exitCodes.get(name) ?? -1), output: readFileSync(join(work, `${name}.out`), "utf8") }));
  const log = join(root, "var/log/standins.log");
  const calls = existsSync(log)
    ? readFileSync(log, "utf8")
        .split("\x1e")
        .filter(Boolean)
        .map((r) => {
          const [command, ...rest] = r.split("\x1f");
          return { command, args: rest };
        })
    : [];
  const hostPath = (p: string) => join(root, p);
  return {
    root,
    parts,
    calls,
    read: (p) => readFileSync(hostPath(p), "utf8"),
    exists: (p) => existsSync(hostPath(p)),
    hostPath,
    stop,
    remove() {
      // Never delete through a mount: the node's mounts live only in its namespace, which is
      // gone by now; refuse if /proc/mounts says otherwise.
      if (readFileSync("/proc/mounts", "utf8").includes(` ${base}/`)) throw new Error(`${base} still has mounts; not removing it`);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
