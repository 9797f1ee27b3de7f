// A stand-in for a cloud server booting a bay node, on this machine: the parts of the node's
// user_data (a MultipartMime as Heat renders it) run as root the way cloud-init runs them,
// inside `unshare --mount --uts --net --pid` and a chroot (node-sandbox/boot.sh):
//   - the node's own network namespace, its private address on loopback, and TCP forwarders
//     from the addresses and ports it was given (magnum_url, a wait-condition URL, the API
//     load balancer) to unix sockets of the test process: the node reaches the real Bayforge
//     API and the test's servers exactly where the stack told it to;
//   - its own hostname, its own processes (all killed when the boot ends), and a root
//     filesystem of its own whose /usr is this machine's, read-only;
//   - recording stand-ins (node-sandbox/standin.sh) only for what cannot run here: apt-get
//     and apt-mark (whose "install" provides stand-in kubeadm, kubelet, kubectl, containerd,
//     ctr, crictl), systemctl, modprobe, sysctl, swapoff, mount. Everything else the
//     fragments run is real: bash, curl, openssl, python3, gpg, mkfs.ext4, blkid, and any
//     service a test hooks to `systemctl start` (etcd, say).
import { execFile } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const HERE = join(import.meta.dirname, "node-sandbox");

/** Commands replaced by the recording stand-in from the start (the rest come with "packages"). */
const STANDINS = ["apt-get", "apt-mark", "systemctl", "modprobe", "sysctl", "swapoff", "mount"];
/** Host files a node's programs need (libraries' config, users, alternatives, TLS config). */
const ETC_COPIES = ["passwd", "group", "hosts", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "python3", "python3.11", "mke2fs.conf"];
const UBUNTU_OS_RELEASE = `PRETTY_NAME="Ubuntu 24.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.3 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n`;

export interface Forward {
  /** address and port the node connects to */
  host: string;
  port: number;
  /** unix socket of the test process that answers */
  socket: string;
}

export interface NodeSandboxOptions {
  hostname: string;
  /** put on the node's loopback: its private address first, then any it serves itself */
  addresses: string[];
  forwards: Forward[];
  /** the user_data parts, in order (cloud-init's part-001, part-002, ...) */
  parts: string[];
  /** files in the node's filesystem before it boots (absolute node paths) */
  files?: Record<string, string | Buffer>;
  /** blank disks (a Cinder volume, say): /dev path (e.g. /dev/disk/by-id/virtio-…) → size in bytes */
  disks?: Record<string, number>;
  /** `systemctl start <unit>` runs this script in the node, in the background */
  serviceHooks?: Record<string, string>;
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
  /** removes the node's files (its mounts died with its namespaces) */
  remove(): void;
}

/** Boots a node in a sandbox; resolves once every part ran (or rejects on timeout). */
export async function bootNode(o: NodeSandboxOptions): Promise<NodeBoot> {
  const base = mkdtempSync(join(tmpdir(), "bf-node-"));
  const root = join(base, "root");
  const work = join(base, "work");
  for (const d of ["usr", ".usr-local/sbin", ".usr-local/bin", ".usr-local/lib/standins/hooks", "proc", "dev", "etc", "var/log", "var/lib/cloud/instance/scripts", "run", "tmp", "root", "opt", "srv", "mnt", "home"])
    mkdirSync(join(root, d), { recursive: true });
  mkdirSync(work);
  chmodSync(join(root, "tmp"), 0o1777);
  for (const [link, target] of [["bin", "usr/bin"], ["sbin", "usr/sbin"], ["lib", "usr/lib"], ["lib64", "usr/lib64"]]) symlinkSync(target, join(root, link));
  for (const f of ETC_COPIES) if (existsSync(join("/etc", f))) cpSync(join("/etc", f), join(root, "etc", f), { recursive: true, verbatimSymlinks: true });
  // What an Ubuntu 24.04 cloud image has in /etc that the fragments rely on.
  for (const d of ["apt/sources.list.d", "apt/apt.conf.d", "apt/keyrings", "modules-load.d", "sysctl.d", "systemd/system", "sysconfig"])
    mkdirSync(join(root, "etc", d), { recursive: true });
  writeFileSync(join(root, "etc/fstab"), "LABEL=cloudimg-rootfs\t/\text4\tdiscard,commit=30,errors=remount-ro\t0 1\n");
  writeFileSync(join(root, "etc/os-release"), UBUNTU_OS_RELEASE);
  writeFileSync(join(root, "etc/hostname"), `${o.hostname}\n`);

  const standin = join(root, ".usr-local/lib/standins/standin");
  cpSync(join(HERE, "standin.sh"), standin);
  chmodSync(standin, 0o755);
  for (const c of STANDINS) symlinkSync("/usr/local/lib/standins/standin", join(root, ".usr-local/sbin", c));
  for (const [unit, script] of Object.entries(o.serviceHooks ?? {})) {
    writeFileSync(join(root, ".usr-local/lib/standins/hooks", unit), script, { mode: 0o755 });
  }
  for (const [path, content] of Object.entries(o.files ?? {})) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
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

  const boot = join(HERE, "boot.sh");
  const args = ["--mount", "--uts", "--net", "--pid", "--fork", "--kill-child", "--propagation", "private", "bash", boot, root, work, o.hostname, ...o.addresses];
  await new Promise<void>((resolve, reject) => {
    execFile("unshare", args, { timeout: o.timeoutMs ?? 90_000, killSignal: "SIGKILL", env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" } }, (err, stdout, stderr) =>
      err ? reject(new Error(`node sandbox ${o.hostname} failed: ${err.message}\n${stdout}${stderr}`)) : resolve(),
    );
  });

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
    remove() {
      // Never delete through a mount: the node's mounts live only in its namespace, which is
      // gone by now; refuse if /proc/mounts says otherwise.
      if (readFileSync("/proc/mounts", "utf8").includes(` ${base}/`)) throw new Error(`${base} still has mounts; not removing it`);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
