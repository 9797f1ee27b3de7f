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
}

export interface Orchestrator {
  /** Returns the new stack's id. Throws OrchestratorError (status 409) if the name is taken. */
  createStack(req: StackCreateRequest): Promise<{ id: string }>;
  /** Looks a stack up by name (or id); undefined when Heat has none. */
  findStack(nameOrId: string): Promise<Stack | undefined>;
  /** Full stack with outputs; undefined when Heat has none. */
  getStack(name: string, id: string): Promise<Stack | undefined>;
  deleteStack(name: string, id: string): Promise<void>;
}

/**
 * A failure Heat reported. `retryable` is true for 5xx, timeouts and connection errors
 * (the adapter has already retried those with backoff before giving up).
 */
export class OrchestratorError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly heatType?: string,
  ) {
    super(message);
    this.name = "OrchestratorError";
  }
}
