// A stand-in Heat (the Orchestrator port) for worker-step tests that need Heat to do what the
// real one cannot be made to do on demand: fail reads for a while, replay a sequence of stack
// statuses, race two creates of one stack, or hold a stack whose Kubernetes API the test serves.
// It records every write; each method does what the test's script says, and otherwise: reads
// find no stack, writes succeed, a create answers stack-<n>.
import type { Orchestrator, Stack, StackCreateRequest, StackRead, StackResource, StackUpdateRequest } from "../../shared/ports/orchestrator.ts";

export interface StandinHeatScript {
  /** `n`: this is the n-th create (1-based) */
  createStack?(req: StackCreateRequest, n: number): Promise<{ id: string }>;
  findStack?(nameOrId: string): Promise<Stack | undefined>;
  /** `n`: this is the n-th getStack (1-based); `o`: what the caller asked to read */
  getStack?(name: string, id: string, n: number, o?: StackRead): Promise<Stack | undefined>;
  /** called after the update is recorded */
  updateStack?(name: string, id: string, req: StackUpdateRequest): Promise<void>;
  listResources?(name: string, id: string): Promise<StackResource[]>;
}

export class StandinHeat implements Orchestrator {
  readonly created: StackCreateRequest[] = [];
  /** ids of the stacks deleteStack was called for, in order */
  readonly deleted: string[] = [];
  readonly updated: Array<{ name: string; id: string; request: StackUpdateRequest }> = [];
  /** getStack calls so far */
  reads = 0;

  constructor(private readonly script: StandinHeatScript = {}) {}

  async createStack(req: StackCreateRequest): Promise<{ id: string }> {
    this.created.push(req);
    const n = this.created.length;
    return this.script.createStack ? this.script.createStack(req, n) : { id: `stack-${n}` };
  }

  async findStack(nameOrId: string): Promise<Stack | undefined> {
    return this.script.findStack?.(nameOrId);
  }

  async getStack(name: string, id: string, o?: StackRead): Promise<Stack | undefined> {
    return this.script.getStack?.(name, id, ++this.reads, o);
  }

  async deleteStack(_name: string, id: string): Promise<void> {
    this.deleted.push(id);
  }

  async updateStack(name: string, id: string, request: StackUpdateRequest): Promise<void> {
    this.updated.push({ name, id, request });
    await this.script.updateStack?.(name, id, request);
  }

  async listResources(name: string, id: string): Promise<StackResource[]> {
    return this.script.listResources ? this.script.listResources(name, id) : [];
  }
}

/** A stack as Heat shows it: `status` and `reason`, the rest from `extra`. */
export function stackOf(name: string, id: string, status: string, reason: string | null = null, extra: Partial<Stack> = {}): Stack {
  return { id, stack_name: name, stack_status: status, stack_status_reason: reason, timeout_mins: null, parameters: {}, outputs: [], ...extra };
}
