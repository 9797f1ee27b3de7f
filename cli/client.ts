// Bayforge's REST API for the CLI: fetch with X-Auth-Token, Magnum's error envelope turned
// into an ApiError carrying `errors[0].detail`. The token comes from --token, $BAYFORGE_TOKEN
// or $OS_TOKEN, else from Keystone for the user's cloud (OS_CLOUD + clouds.yaml, or OS_*
// variables) through the project's own OpenStack adapter, as the openstack CLI gets one.
import { openstackFromEnv } from "../shared/adapters/openstack/index.ts";

export const DEFAULT_URL = "http://127.0.0.1:9511";

/** The API answered with an error: `detail` is Magnum's errors[0].detail (or the body). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Anything else that stops a command (no credentials, Bayforge unreachable, Keystone refused). */
export class CliError extends Error {
  constructor(
    message: string,
    /** worth retrying (Bayforge or Keystone unreachable) */
    readonly transient = false,
  ) {
    super(message);
  }
}

/** A failure `bay wait` rides out: Bayforge, Keystone or the cloud briefly away. */
export const isTransient = (e: unknown) => (e instanceof ApiError && (e.status >= 500 || e.status === 429)) || (e instanceof CliError && e.transient);

export type Env = Record<string, string | undefined>;

export function baseUrl(flag: string | undefined, env: Env): string {
  return (flag || env.BAYFORGE_URL || DEFAULT_URL).replace(/\/+$/, "").replace(/\/v1$/, "");
}

/** The token given by the user, if any (then it is never renewed). */
export const givenToken = (flag: string | undefined, env: Env) => flag || env.BAYFORGE_TOKEN || env.OS_TOKEN || undefined;

export async function resolveToken(flag: string | undefined, env: Env): Promise<string> {
  const given = givenToken(flag, env);
  if (given) return given;
  let os;
  try {
    os = openstackFromEnv(env);
  } catch (e) {
    throw new CliError(`cloud configuration: ${(e as Error).message}`);
  }
  if (!os) throw new CliError("no credentials: pass --token, set BAYFORGE_TOKEN or OS_TOKEN, or configure a cloud (OS_CLOUD with clouds.yaml, or OS_AUTH_URL and the other OS_* variables)");
  try {
    return await os.session.token();
  } catch (e) {
    const status = (e as { status?: number }).status;
    throw new CliError(`Keystone (${os.cloud.cloud}): ${(e as Error).message}`, !status || status >= 500);
  } finally {
    await os.close().catch(() => {});
  }
}

/** Magnum's envelope → its detail; otherwise the body's text, or the status line. */
export function errorDetail(status: number, text: string): string {
  try {
    const body = JSON.parse(text);
    const e = body?.errors?.[0];
    if (e?.detail || e?.title) return String(e.detail || e.title);
    if (typeof body?.message === "string") return body.message;
  } catch {
    /* not JSON */
  }
  return text.trim() || `HTTP ${status}`;
}

export class Client {
  private token?: Promise<string>;
  constructor(
    readonly url: string,
    private readonly getToken: () => Promise<string>,
    /** a token from Keystone: asked again after a 401 (it expired during a long wait) */
    private readonly renewable = false,
  ) {}

  private async currentToken(): Promise<string> {
    this.token ??= this.getToken();
    try {
      return await this.token;
    } catch (e) {
      this.token = undefined; // a failed authentication is not cached
      throw e;
    }
  }

  /** The parsed JSON answer (undefined for an empty one, e.g. 204); ApiError for ≥ 400. */
  async request<T = any>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const token = await this.currentToken();
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: { "x-auth-token": token, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach Bayforge at ${this.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, true);
    }
    const text = await res.text();
    if (res.status === 401 && this.renewable && !retried) {
      this.token = undefined;
      return this.request(method, path, body, true);
    }
    if (!res.ok) throw new ApiError(res.status, errorDetail(res.status, text));
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export const seg = (s: string) => encodeURIComponent(s);
