// A Lambda function's instances (execution environments), as Lambda manages them: an
// invocation takes a warm idle instance if there is one, else a new one is started (its init
// phase: importing the bundle); an instance runs one invocation at a time; the function's
// concurrency (instances busy at once) never exceeds its reserved concurrency when the
// template sets one; an invocation that outlives the function's timeout has its instance
// killed and fails as Lambda's does ("Task timed out after N seconds"). Idle instances are
// stopped after a while, as Lambda reclaims them. The pool records the peak concurrency.
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { FunctionSpec } from "./template.ts";

/** what Lambda's REPORT line says: the init phase, when this invocation started its instance, and the invocation's own time */
export interface InvokeReport {
  initMs?: number;
  durationMs?: number;
}

export type InvokeResult =
  | { ok: true; value: unknown; requestId: string; report?: InvokeReport }
  | { ok: false; error: { errorType: string; errorMessage: string }; requestId: string; report?: InvokeReport };

export interface PoolOptions {
  /** the runtime's environment (region, credentials, endpoints) under the function's own */
  runtimeEnv: Record<string, string>;
  arn: string;
  /** idle instances are stopped after this long (default 5 minutes) */
  idleMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Lambda's limit on the init phase of an on-demand instance. */
const INIT_LIMIT_MS = 10_000;
const RUNTIME = join(import.meta.dirname, "instance-runtime.mjs");

interface Instance {
  child: ChildProcess;
  ready: Promise<void>;
  initMs?: number;
  idleTimer?: NodeJS.Timeout;
  /** killed or exited: never handed another invocation */
  dead?: boolean;
  pending?: { id: string; settle: (r: InvokeResult) => void };
}

export class FunctionPool {
  readonly #idle: Instance[] = [];
  readonly #all = new Set<Instance>();
  readonly #waiting: Array<() => void> = [];
  #busy = 0;
  #peak = 0;
  #started = 0;
  #closed = false;

  constructor(
    readonly spec: FunctionSpec,
    private readonly o: PoolOptions,
  ) {}

  /** instances running an invocation now, the most ever at once, instances ever started */
  get stats() {
    return { busy: this.#busy, peak: this.#peak, instances: this.#all.size, started: this.#started, limit: this.spec.reservedConcurrency ?? null };
  }

  /**
   * One invocation. With `wait` (event sources, schedules: Lambda's pollers retry a throttle)
   * it waits for room under the reserved concurrency; without (the HTTP API) a full function
   * answers TooManyRequestsException at once.
   */
  async invoke(event: unknown, o: { wait?: boolean } = {}): Promise<InvokeResult> {
    const requestId = randomUUID();
    const limit = this.spec.reservedConcurrency;
    while (limit !== undefined && this.#busy >= limit) {
      if (!o.wait) return { ok: false, requestId, error: { errorType: "TooManyRequestsException", errorMessage: "Rate Exceeded." } };
      await new Promise<void>((r) => this.#waiting.push(r));
    }
    if (this.#closed) return { ok: false, requestId, error: { errorType: "ServiceException", errorMessage: "aws-local is stopping" } };
    this.#busy++;
    this.#peak = Math.max(this.#peak, this.#busy);
    try {
      return await this.#run(event, requestId);
    } finally {
      this.#busy--;
      this.#waiting.shift()?.();
    }
  }

  async #run(event: unknown, requestId: string): Promise<InvokeResult> {
    let inst = this.#idle.pop();
    const cold = !inst;
    if (inst) clearTimeout(inst.idleTimer);
    else inst = this.#start();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    try {
      await inst.ready;
    } catch (e) {
      return { ok: false, requestId, error: e as { errorType: string; errorMessage: string } };
    }
    const deadline = Date.now() + timeoutMs;
    const result = await new Promise<InvokeResult>((settle) => {
      inst.pending = { id: requestId, settle };
      const timer = setTimeout(() => {
        this.o.log?.("invocation timed out: instance killed", { function: this.spec.name, requestId, timeoutSeconds: this.spec.timeoutSeconds });
        settle({ ok: false, requestId, error: { errorType: "Sandbox.Timedout", errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds` } });
        inst.dead = true;
        inst.child.kill("SIGKILL");
      }, timeoutMs);
      inst.pending.settle = (r) => {
        clearTimeout(timer);
        inst.pending = undefined;
        settle(r);
      };
      inst.child.send({ type: "invoke", id: requestId, event, deadline, requestId, invokedFunctionArn: this.o.arn }, (err) => {
        if (!err) return;
        inst.dead = true;
        inst.pending?.settle({ ok: false, requestId, error: { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${requestId} Error: the instance could not be reached (${err.message})` } });
      });
    });
    if (!inst.dead && this.#all.has(inst) && inst.child.exitCode === null && inst.child.signalCode === null) this.#park(inst);
    return { ...result, report: { ...(cold ? { initMs: inst.initMs } : {}), durationMs: result.report?.durationMs } };
  }

  #start(): Instance {
    const spec = this.spec;
    const stream = `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[$LATEST]${randomUUID().replace(/-/g, "")}`;
    const child = fork(RUNTIME, [spec.codeDir, spec.exportName], {
      cwd: spec.codeDir,
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        LANG: "en_US.UTF-8",
        TZ: ":UTC",
        LAMBDA_TASK_ROOT: spec.codeDir,
        _HANDLER: `index.${spec.exportName}`,
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
        AWS_LAMBDA_FUNCTION_NAME: spec.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMB),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: stream,
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        ...this.o.runtimeEnv,
        ...spec.environment,
      },
    });
    this.#started++;
    const inst: Instance = { child, ready: Promise.resolve() };
    this.#all.add(inst);
    const t0 = performance.now();
    inst.ready = new Promise<void>((ok, no) => {
      const limit = setTimeout(() => {
        no({ errorType: "Runtime.InitError", errorMessage: `init did not finish within ${INIT_LIMIT_MS / 1000} s` });
        child.kill("SIGKILL");
      }, INIT_LIMIT_MS);
      child.on("message", (m: { type: string; id?: string; value?: unknown; error?: { errorType: string; errorMessage: string }; initMs?: number; ms?: number }) => {
        if (m.type === "ready") {
          clearTimeout(limit);
          inst.initMs = m.initMs;
          this.o.log?.("instance started", { function: spec.name, initMs: Math.round(m.initMs ?? performance.now() - t0) });
          ok();
        } else if (m.type === "init-error") {
          clearTimeout(limit);
          no(m.error);
        } else if ((m.type === "result" || m.type === "error") && inst.pending && inst.pending.id === m.id) {
          const report = { durationMs: m.ms };
          inst.pending.settle(m.type === "result" ? { ok: true, value: m.value, requestId: m.id!, report } : { ok: false, error: m.error!, requestId: m.id!, report });
        }
      });
      child.on("error", () => {}); // a failed send is answered by its callback; the exit by "exit"
      child.on("exit", (code, signal) => {
        inst.dead = true;
        clearTimeout(limit);
        clearTimeout(inst.idleTimer);
        this.#all.delete(inst);
        const i = this.#idle.indexOf(inst);
        if (i >= 0) this.#idle.splice(i, 1);
        const why = `Runtime exited with ${signal ? `signal: ${signal}` : `error: exit status ${code}`}`;
        no({ errorType: "Runtime.ExitError", errorMessage: why });
        const pending = inst.pending;
        pending?.settle({ ok: false, requestId: pending.id, error: { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${pending.id} Error: ${why}` } });
      });
    });
    inst.ready.catch(() => {}); // awaited by the invocation that started it
    return inst;
  }

  #park(inst: Instance): void {
    if (this.#closed) return void inst.child.kill("SIGKILL");
    inst.idleTimer = setTimeout(() => inst.child.kill("SIGTERM"), this.o.idleMs ?? 300_000);
    inst.idleTimer.unref();
    this.#idle.push(inst);
  }

  /** Stops every instance (an invocation in flight fails). */
  async close(): Promise<void> {
    this.#closed = true;
    const exits = [...this.#all].map((i) => new Promise((r) => (i.child.exitCode !== null || i.child.signalCode !== null ? r(null) : i.child.once("exit", r))));
    for (const i of this.#all) i.child.kill("SIGKILL");
    for (const w of this.#waiting.splice(0)) w();
    await Promise.all(exits);
  }
}
