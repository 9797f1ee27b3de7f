// Heat, as the worker needs it. The adapter (shared/adapters/openstack) speaks Heat's REST
// API; errors it cannot retry itself surface as OrchestratorError with Heat's message.

export interface StackCreateRequest {
  stack_name: string;
  template: Record<string, unknown>;
  /** nested templates and get_file contents, keyed exactly as the template references them */
  files: Record<string, string>;
  parameters: Record<string, unknown>;
  /** omitted → no stack timeout */
  timeout_mins?: number;
}

export interface Stack {
  id: string;
  stack_name: string;
  stack_status: string;
  stack_status_reason: string | null;
  timeout_mins: number | null;
  parameters: Record<string, string>;
  outputs: Array<{ output_key: string; output_value: unknown; output_error?: string }>;
  /** ISO time Heat last started an update of the stack, or null */
  updated_time?: string | null;
}

/**
 * Heat's PATCH update (`existing: true`): the stack keeps its template, files and every
 * parameter not named here; only what is given changes.
 */
export interface StackUpdateRequest {
  parameters?: Record<string, unknown>;
  /** parameters to reset to their template defaults */
  clear_parameters?: string[];
  timeout_mins?: number;
  /** replace the template (and with it, usually, `files`) */
  template?: Record<string, unknown>;
  files?: Record<string, string>;
  /** false: Heat rolls a failed update back (ROLLBACK_COMPLETE); unset keeps the stack's own (Heat's default: no rollback) */
  disable_rollback?: boolean;
}

/** One resource of a stack, or of a nested stack when listed with a nesting depth. */
export interface StackResource {
  resource_name: string;
  resource_type: string;
  resource_status: string;
  resource_status_reason: string | null;
  physical_resource_id: string | null;
  /** the resource in the parent stack that owns the nested stack this one lives in */
  parent_resource?: string;
  /** the stack this resource belongs to (from its "stack" link) */
  stack_name?: string;
  stack_id?: string;
  /** ISO time of the resource's last status change */
  updated_time?: string | null;
}

export interface Orchestrator {
  /** Returns the new stack's id. Throws OrchestratorError (status 409) if the name is taken. */
  createStack(req: StackCreateRequest): Promise<{ id: string }>;
  /** Looks a stack up by name (or id); undefined when Heat has none. */
  findStack(nameOrId: string): Promise<Stack | undefined>;
  /** Full stack with outputs; undefined when Heat has none. */
  getStack(name: string, id: string, o?: StackRead): Promise<Stack | undefined>;
  /** Deletes; a stack Heat no longer has counts as deleted. */
  deleteStack(name: string, id: string): Promise<void>;
  /** Starts a PATCH update (Heat answers 202; poll getStack for UPDATE_COMPLETE). */
  updateStack(name: string, id: string, req: StackUpdateRequest): Promise<void>;
  /** The stack's resources; nestedDepth > 0 also lists those of nested stacks that deep. */
  listResources(name: string, id: string, opts?: { nestedDepth?: number }): Promise<StackResource[]>;
}

/**
 * A failure Heat reported. `retryable` is true for 5xx, timeouts and connection errors
 * (the adapter has already retried those with backoff before giving up).
 */
/** How much of a stack to read. */
export interface StackRead {
  /**
   * false: Heat does not resolve the stack's outputs, and `outputs` is empty. A look at the
   * status alone: resolving outputs loads every nested stack, work for Heat's engine that a
   * poll between a create's start and end does not need.
   */
  outputs?: boolean;
}

export class OrchestratorError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly heatType?: string,
    /**
     * A create that failed so may still have acted (no answer in time, a dropped connection,
     * a 5xx other than 503): its stack can appear in Heat after this error.
     */
    readonly maybeActed = false,
  ) {
    super(message);
    this.name = "OrchestratorError";
  }
}
