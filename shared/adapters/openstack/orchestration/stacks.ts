// The Orchestrator port on Heat's REST API (v1): create, find, get, update, delete stacks and
// list their resources. Retries (5xx, 429, timeouts, dropped connections) happen in the
// transport; a 401 re-authenticates once in the session; what is left becomes an
// OrchestratorError carrying Heat's own message, status and error type.
import type { EndpointInterface } from "../config/types.ts";
import { safeUrl, TransportError, type HttpResponse, type Method } from "../../http/index.ts";
import { isNotActedStatus, isRetryableStatus } from "../../../domain/retryable.ts";
import type { Session } from "../identity/session.ts";
import { IdentityError } from "../identity/results.ts";
import {
  OrchestratorError,
  type Orchestrator,
  type Stack,
  type StackCreateRequest,
  type StackRead,
  type StackResource,
  type StackUpdateRequest,
} from "../../../ports/orchestrator.ts";
import { createBody, updateBody } from "./stacks/requests.ts";
import { extractCreated, extractResources, extractStack, heatError, heatTime } from "./stacks/results.ts";
import { createURL, lookupURL, parseStackURL, resourcesURL, stackURL } from "./stacks/urls.ts";

export interface HeatClientOptions {
  /**
   * Use this URL instead of the catalog's. `%(project_id)s` / `$(tenant_id)s` are filled in;
   * a URL ending in /v1 gets /{project_id} appended.
   */
  endpoint?: string;
  interface?: EndpointInterface;
  region?: string;
  /** per-attempt timeout of Heat requests (default: the session transport's, 30 s) */
  timeoutMs?: number;
  /**
   * Address this project's stacks instead of the session's own (an admin reading another
   * project's stack by id, as Magnum's periodic poller reads every project's).
   */
  project?: string;
}

type Url = (endpoint: string) => string;

/** A stack found by name after a retried create is adopted only if it is this recent. */
const ADOPT_WINDOW_MS = 5 * 60_000;

export class HeatClient implements Orchestrator {
  constructor(
    readonly session: Session,
    private readonly opts: HeatClientOptions = {},
  ) {}

  /** The orchestration endpoint, …/v1/{project_id}. */
  async endpoint(): Promise<string> {
    const own = await this.session.projectId();
    const project = this.opts.project ?? own;
    const template = this.opts.endpoint && /[%$]\((tenant_id|project_id)\)s/.test(this.opts.endpoint);
    const url = this.opts.endpoint
      ? this.opts.endpoint.replace(/[%$]\((tenant_id|project_id)\)s/g, project)
      : await this.session.endpoint("orchestration", { interface: this.opts.interface, region: this.opts.region });
    const trimmed = url.replace(/\/+$/, "");
    if (/\/v1$/.test(trimmed)) return `${trimmed}/${project}`;
    if (project === own || template) return trimmed;
    // the URL names the session's project: swap it, or refuse (never another project's URL by guess)
    if (trimmed.endsWith(`/${own}`)) return `${trimmed.slice(0, -own.length)}${project}`;
    throw new OrchestratorError(`the orchestration endpoint ${trimmed} does not name project ${own}, so project ${project}'s stacks cannot be addressed`, undefined, false);
  }

  async createStack(req: StackCreateRequest): Promise<{ id: string }> {
    const started = Date.now();
    // never sent twice by the transport: a create that may have acted is the caller's to settle
    const res = await this.call("POST", createURL, createBody(req), false);
    if (res.status === 201 || res.status === 200 || res.status === 202) {
      const created = extractCreated(res.body);
      if (created) return created;
      throw new OrchestratorError("Heat accepted the stack but its answer holds no stack id", res.status, false);
    }
    if (res.status === 409 && res.attempts > 1) {
      // An earlier attempt may have created the stack before its answer was lost (timeout,
      // dropped connection, 5xx from a proxy): adopt a stack of that name created just now.
      const found = await this.lookup(req.stack_name);
      if (found && found.createdAt !== undefined && found.createdAt >= started - ADOPT_WINDOW_MS) {
        return { id: found.stack.id };
      }
    }
    const failed = this.fail(res);
    if (!failed.retryable || isNotActedStatus(res.status)) throw failed;
    throw new OrchestratorError(failed.message, failed.status, true, failed.heatType, true);
  }

  async findStack(nameOrId: string): Promise<Stack | undefined> {
    return (await this.lookup(nameOrId))?.stack;
  }

  async getStack(name: string, id: string, o: StackRead = {}): Promise<Stack | undefined> {
    return (await this.fetchStack(name, id, o.outputs !== false))?.stack;
  }

  async deleteStack(name: string, id: string): Promise<void> {
    const res = await this.call("DELETE", (ep) => stackURL(ep, name, id));
    if (res.status === 204 || res.status === 202 || res.status === 200 || res.status === 404) return;
    throw this.fail(res);
  }

  async updateStack(name: string, id: string, req: StackUpdateRequest): Promise<void> {
    const res = await this.call("PATCH", (ep) => stackURL(ep, name, id), updateBody(req));
    if (res.status === 202 || res.status === 200) return;
    throw this.fail(res);
  }

  async listResources(name: string, id: string, opts: { nestedDepth?: number } = {}): Promise<StackResource[]> {
    const res = await this.call("GET", (ep) => resourcesURL(ep, name, id, opts.nestedDepth));
    if (res.status === 200) return extractResources(res.body);
    throw this.fail(res);
  }

  // ---------------------------------------------------------------- internals

  /** GET …/stacks/{nameOrId}: Heat answers 302 to …/stacks/{name}/{id}; follow it on our endpoint. */
  private async lookup(nameOrId: string): Promise<{ stack: Stack; createdAt?: number } | undefined> {
    const res = await this.call("GET", (ep) => lookupURL(ep, nameOrId));
    if (res.status === 404) return undefined;
    if (res.status === 200) return withCreatedAt(res);
    if (res.status >= 300 && res.status < 400) {
      const ref = res.headers.location ? parseStackURL(res.headers.location) : undefined;
      if (!ref) {
        throw new OrchestratorError(
          `Heat redirected the lookup of stack "${nameOrId}" to an unexpected place`,
          res.status,
          false,
        );
      }
      return this.fetchStack(ref.name, ref.id);
    }
    throw this.fail(res);
  }

  private async fetchStack(name: string, id: string, outputs = true): Promise<{ stack: Stack; createdAt?: number } | undefined> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.call("GET", (ep) => stackURL(ep, name, id) + (outputs ? "" : "?resolve_outputs=False"));
      if (res.status === 200) return withCreatedAt(res);
      if (res.status !== 404) throw this.fail(res);
      if (stackIsGone(res)) return undefined;
      // Heat (convergence) can answer 404 about one of the stack's own rows while an update or
      // delete traversal finishes ("The ResourcePropertiesData (…) could not be found"): the
      // stack is there, ask again shortly; after that, a retryable error, never "gone".
      if (attempt >= TRANSIENT_404_ATTEMPTS) {
        const e = this.fail(res);
        throw new OrchestratorError(`${e.message} (while reading stack ${name})`, 404, true, e.heatType);
      }
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }

  /** Resolves the endpoint and sends; Keystone and transport failures become OrchestratorErrors. */
  private async call(method: Method, urlFor: Url, json?: unknown, repeatable = true): Promise<HttpResponse> {
    let url = "";
    try {
      url = urlFor(await this.endpoint());
      return await this.session.request({ method, url, json, timeoutMs: this.opts.timeoutMs, repeatable });
    } catch (e) {
      if (e instanceof TransportError) {
        if (e.kind === "too_large") throw new OrchestratorError(`Heat: ${e.message}`, undefined, false);
        const what = e.kind === "timeout" ? e.message : `connection failed (${e.code ?? e.message})`;
        throw new OrchestratorError(
          `Heat did not answer ${method} ${safeUrl(url)}: ${what}, after ${e.attempts} attempt(s)`,
          undefined,
          e.retryable,
          undefined,
          !repeatable && e.maybeSent,
        );
      }
      if (e instanceof IdentityError) throw new OrchestratorError(e.message, e.status, e.retryable);
      throw e;
    }
  }

  private fail(res: HttpResponse): OrchestratorError {
    const { message, type } = heatError(res.body, res.status);
    const retryable = isRetryableStatus(res.status);
    const suffix = retryable ? ` (HTTP ${res.status} after ${res.attempts} attempt(s))` : "";
    return new OrchestratorError(message + suffix, res.status, retryable, type);
  }
}

/** Tries of a stack GET whose 404 is about something other than the stack itself. */
const TRANSIENT_404_ATTEMPTS = 4;

/** Heat's 404 means the stack itself is unknown: StackNotFound / "The Stack (x) could not be found." */
function stackIsGone(res: HttpResponse): boolean {
  const { message, type } = heatError(res.body, res.status);
  return type === "StackNotFound" || /^The Stack \(/.test(message) || type === undefined;
}

function withCreatedAt(res: HttpResponse): { stack: Stack; createdAt?: number } {
  const created = heatTime((res.body as { stack?: { creation_time?: unknown } } | undefined)?.stack?.creation_time);
  return { stack: extractStack(res.body), createdAt: created ? Date.parse(created) : undefined };
}
