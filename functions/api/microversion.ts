// API microversions as Magnum negotiates them: the mitaka header
// X-OpenStack-Magnum-API-Version and the modern `OpenStack-API-Version: container-infra X.Y`
// (with its service aliases). No header means the minimum, 1.1; "latest" means the maximum.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/domain/errors.ts";

export const MIN_VERSION = "1.1";
/**
 * 1.2: asynchronous create answers 202 {uuid}; 1.4 stats; 1.5 CA rotation; 1.6 quotas; 1.7 the
 * resize action; 1.9 nodegroups (read-only here); 1.11 no bays or baymodels; 1.12 credential
 * rotation; 1.13 cluster_id for stack_id; 1.14 node groups' node_labels and node_taints (set at
 * create). What Bayforge leaves out is listed in the README.
 */
export const MAX_VERSION = "1.14";
const SERVICES = ["container-infra", "container-infrastructure-management", "container-infrastructure"];

export interface Version {
  major: number;
  minor: number;
}
const parse = (s: string): Version | undefined => {
  const m = /^(\d+)\.(\d+)$/.exec(s.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
};
const cmp = (a: Version, b: Version) => a.major - b.major || a.minor - b.minor;
export const atLeast = (v: Version, s: string) => cmp(v, parse(s)!) >= 0;
const fmt = (v: Version) => `${v.major}.${v.minor}`;

export class UnsupportedVersion extends ApiError {
  constructor(
    readonly requested: string,
    detail = `Version ${requested} requested but not supported by this service. The supported version range is: [container-infra ${MIN_VERSION}, container-infra ${MAX_VERSION}].`,
  ) {
    super(406, "Requested microversion is unsupported", detail);
  }
}

/** A route that came with version `min`: older versions get 406, as Magnum's versioned controllers answer. */
export function requireVersion(v: Version, min: string, what: string): void {
  if (!atLeast(v, min))
    throw new UnsupportedVersion(fmt(v), `${what} needs API version ${min} or later; version ${fmt(v)} was requested. The supported version range for it is: [container-infra ${min}, container-infra ${MAX_VERSION}].`);
}

function requested(modern: string | undefined, legacy: string | undefined): string | undefined {
  if (modern) {
    for (const part of modern.split(",")) {
      const [service, value] = part.trim().split(/\s+/, 2);
      if (service && SERVICES.includes(service.toLowerCase()) && value) return value;
    }
  }
  return legacy?.trim() || undefined;
}

export function negotiate(modern: string | undefined, legacy: string | undefined): Version {
  const want = requested(modern, legacy);
  if (!want) return parse(MIN_VERSION)!;
  if (want.toLowerCase() === "latest") return parse(MAX_VERSION)!;
  const v = parse(want);
  if (!v) throw new ApiError(400, `Invalid API version ${JSON.stringify(want).slice(0, 40)}: expected MAJOR.MINOR such as 1.1, or "latest".`);
  if (cmp(v, parse(MIN_VERSION)!) < 0 || cmp(v, parse(MAX_VERSION)!) > 0) throw new UnsupportedVersion(want);
  return v;
}

/**
 * A resource that microversion `version` removed (1.11: bays and baymodels): 404 from that
 * version on, as Magnum serves no such resource; older versions keep it.
 */
export function removedAt(version: string, what: string, instead: string): MiddlewareHandler<{ Variables: { version: Version } }> {
  const removed = parse(version)!;
  const last = fmt({ major: removed.major, minor: removed.minor - 1 });
  return async (c, next) => {
    const v = c.get("version");
    if (!atLeast(v, version)) return next();
    throw new ApiError(
      404,
      "Not Found",
      `No resource at ${c.req.method} ${c.req.path} in API version ${fmt(v)}: Magnum removed ${what} in version ${version}. Use ${instead}, or ask for version ${last} (OpenStack-API-Version: container-infra ${last}).`,
    );
  };
}

/** Sets the version range headers on every answer and the negotiated version on the context. */
export const microversion = (): MiddlewareHandler<{ Variables: { version: Version } }> => async (c, next) => {
  const headersFor = (used?: Version): [string, string][] => [
    ["OpenStack-API-Minimum-Version", `container-infra ${MIN_VERSION}`],
    ["OpenStack-API-Maximum-Version", `container-infra ${MAX_VERSION}`],
    ["X-OpenStack-Magnum-API-Minimum-Version", MIN_VERSION],
    ["X-OpenStack-Magnum-API-Maximum-Version", MAX_VERSION],
    ["Vary", "OpenStack-API-Version, X-OpenStack-Magnum-API-Version"],
    ...(used ? ([["OpenStack-API-Version", `container-infra ${fmt(used)}`], ["X-OpenStack-Magnum-API-Version", fmt(used)]] as [string, string][]) : []),
  ];
  const setHeaders = (headers: [string, string][]) => {
    for (const [name, value] of headers) c.header(name, value);
  };
  let v: Version;
  try {
    v = negotiate(c.req.header("OpenStack-API-Version"), c.req.header("X-OpenStack-Magnum-API-Version"));
  } catch (e) {
    setHeaders(headersFor());
    throw e;
  }
  c.set("version", v);
  const headers = headersFor(v);
  setHeaders(headers);
  await next();
  // Error responses are rebuilt by the error handler, and a route may answer with a Response
  // of its own: keep the headers on them. Only when one is missing or changed: a header set on
  // a finished answer makes hono copy it into a full web Response, whose body node-server then
  // streams (about a tenth of the accept path's CPU).
  const answered = c.res.headers;
  if (headers.some(([name, value]) => answered.get(name) !== value)) setHeaders(headers);
};
