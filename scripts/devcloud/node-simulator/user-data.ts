// A server's user_data as cloud-init reads it: a MIME multipart message (Heat's
// OS::Heat::MultipartMime) whose shell-script parts run in order, or one bare script. The
// user_data is untrusted input: sizes and counts are bounded, and what is not a script is
// reported, not run.

/** Nova takes at most 64 KiB of base64 user_data; anything larger is not Nova's. */
export const MAX_USER_DATA_BYTES = 256 << 10;
export const MAX_PARTS = 32;

export interface Script {
  /** cloud-init's part name, in order: part-001, part-002, ... */
  name: string;
  body: string;
}

export interface UserData {
  scripts: Script[];
  /** parts cloud-init would handle otherwise (cloud-config, ...), which the simulator skips */
  skipped: string[];
}

/** Decodes Nova's base64 user_data and splits it as cloud-init would. Throws on what it cannot read. */
export function readUserData(base64: string): UserData {
  if (base64.length > (MAX_USER_DATA_BYTES * 4) / 3 + 4) throw new Error(`user_data is larger than ${MAX_USER_DATA_BYTES} bytes`);
  const text = Buffer.from(base64, "base64").toString("utf8");
  if (!text.trim()) return { scripts: [], skipped: [] };
  const headerEnd = text.search(/\r?\n\r?\n/);
  const headers = headerEnd < 0 ? "" : text.slice(0, headerEnd);
  const boundary = /^content-type:\s*multipart\/[a-z]+;[^\n]*boundary="?([^";\r\n]+)"?/im.exec(headers)?.[1];
  if (!boundary) return single(text, "part-001", "text/x-not-multipart");
  const chunks = text.split(`--${boundary}`);
  // chunks[0] is the preamble (the message's headers), the last one starts with "--" (the end)
  const bodies = chunks.slice(1, -1);
  if (bodies.length > MAX_PARTS) throw new Error(`user_data has ${bodies.length} parts (at most ${MAX_PARTS})`);
  const out: UserData = { scripts: [], skipped: [] };
  bodies.forEach((chunk, i) => {
    const body = chunk.replace(/^\r?\n/, "");
    const split = body.search(/\r?\n\r?\n/);
    const partHeaders = split < 0 ? body : body.slice(0, split);
    let payload = split < 0 ? "" : body.slice(split).replace(/^\r?\n\r?\n/, "").replace(/\r?\n$/, "");
    if (/^content-transfer-encoding:\s*base64/im.test(partHeaders)) payload = Buffer.from(payload, "base64").toString("utf8");
    const type = /^content-type:\s*([^;\s]+)/im.exec(partHeaders)?.[1]?.toLowerCase() ?? "text/plain";
    const part = single(payload, `part-${String(i + 1).padStart(3, "0")}`, type);
    out.scripts.push(...part.scripts);
    out.skipped.push(...part.skipped);
  });
  return out;
}

/** One part: cloud-init runs text/x-shellscript, and guesses text/plain's type from its start. */
function single(payload: string, name: string, type: string): UserData {
  const guessed = ["text/plain", "text/x-not-multipart", "text/x-shellscript"].includes(type);
  if (guessed && payload.startsWith("#!")) return { scripts: [{ name, body: payload }], skipped: [] };
  return { scripts: [], skipped: [`${name} (${type}${guessed ? `, starting ${JSON.stringify(payload.slice(0, 16))}` : ""})`] };
}

/** The variables of write-heat-params-*.sh (NAME="value" lines), from the first script. */
export function heatParams(scripts: Script[]): Record<string, string> {
  const params: Record<string, string> = {};
  const first = scripts[0]?.body ?? "";
  for (const m of first.matchAll(/^([A-Z][A-Z0-9_]*)="([^"\n]*)"$/gm)) params[m[1]] = m[2];
  return params;
}

/** The heat-params that name a service of the cloud's host (URLs the node calls). */
const SERVICE_PARAMS = ["MAGNUM_URL", "ETCD_DISCOVERY_URL", "AUTH_URL", "KUBE_APT_MIRROR", "HTTP_PROXY", "HTTPS_PROXY"];

/**
 * The loopback ports of the host services the node calls, which it must reach at the very
 * same address: Bayforge (magnum_url, the discovery URL), Keystone, a mirror or proxy, and
 * Heat through a wait condition's signal URL (Heat's curl_cli, in any part). Only these: a
 * node's own loopback ports (etcd's 127.0.0.1:2379, say) stay its own. At most `max`.
 */
export function loopbackPorts(scripts: Script[], max = 8): number[] {
  const params = heatParams(scripts);
  const loopback = /\bhttps?:\/\/(?:127\.0\.0\.1|localhost):(\d{1,5})\b/g;
  const signals = scripts.flatMap((s) => [...s.body.matchAll(/\bhttps?:\/\/(?:127\.0\.0\.1|localhost):\d{1,5}\/\S*\/resources\/[^/\s]+\/signal\b/g)].map((m) => m[0]));
  const urls = [...SERVICE_PARAMS.map((p) => params[p] ?? ""), ...signals];
  const ports = new Set<number>();
  for (const text of urls) {
    for (const m of text.matchAll(loopback)) {
      const port = Number(m[1]);
      if (port > 0 && port < 65536 && ports.size < max) ports.add(port);
    }
  }
  return [...ports];
}
