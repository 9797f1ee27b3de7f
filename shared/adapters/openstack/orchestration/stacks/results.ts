// What Heat answers: stacks, resources and errors, turned into the port's types.
import { OrchestratorError, type Stack, type StackResource } from "../../../../ports/orchestrator.ts";
import { parseStackURL } from "./urls.ts";

type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" ? v : v == null ? null : String(v));

/** `{stack: {...}}` from GET .../stacks/{name}/{id}. */
export function extractStack(body: unknown): Stack {
  const s = ((body as { stack?: Json } | undefined)?.stack ?? {}) as Json;
  // a 200 without a stack is not Heat's (a proxy's page, a balancer's): a failure to retry,
  // never a stack with no id that a step would take for "none"
  if (typeof s.id !== "string" || !s.id) throw new OrchestratorError("Heat's answer to a stack read held no stack", 200, true);
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries((s.parameters as Json | undefined) ?? {})) parameters[k] = str(v) ?? "";
  const outputs = Array.isArray(s.outputs)
    ? (s.outputs as Json[]).map((o) => {
        const out: Stack["outputs"][number] = { output_key: String(o.output_key), output_value: o.output_value ?? null };
        if (typeof o.output_error === "string") out.output_error = o.output_error;
        return out;
      })
    : [];
  return {
    id: String(s.id ?? ""),
    stack_name: String(s.stack_name ?? ""),
    stack_status: String(s.stack_status ?? ""),
    stack_status_reason: str(s.stack_status_reason),
    timeout_mins: typeof s.timeout_mins === "number" ? s.timeout_mins : null,
    parameters,
    outputs,
    updated_time: heatTime(s.updated_time),
  };
}

/** `{stack: {id, links}}` from POST .../stacks. */
export function extractCreated(body: unknown): { id: string } | undefined {
  const id = (body as { stack?: { id?: unknown } } | undefined)?.stack?.id;
  return typeof id === "string" && id ? { id } : undefined;
}

/** `{resources: [...]}` from GET .../resources. */
export function extractResources(body: unknown): StackResource[] {
  const list = (body as { resources?: Json[] } | undefined)?.resources;
  if (!Array.isArray(list)) return [];
  return list.map((r) => {
    const links = Array.isArray(r.links) ? (r.links as Array<{ href?: string; rel?: string }>) : [];
    const owner = links.find((l) => l.rel === "stack")?.href;
    const stack = owner ? parseStackURL(owner) : undefined;
    const res: StackResource = {
      resource_name: String(r.resource_name ?? r.logical_resource_id ?? ""),
      resource_type: String(r.resource_type ?? ""),
      resource_status: String(r.resource_status ?? ""),
      resource_status_reason: str(r.resource_status_reason),
      physical_resource_id: str(r.physical_resource_id) || null,
    };
    if (typeof r.parent_resource === "string") res.parent_resource = r.parent_resource;
    res.updated_time = heatTime(r.updated_time ?? r.creation_time);
    if (stack) {
      res.stack_name = stack.name;
      res.stack_id = stack.id;
    }
    return res;
  });
}

/**
 * Heat's error: `{"explanation", "code", "error": {"message", "traceback", "type"}, "title"}`
 * (keystonemiddleware's 401 is `{"error": {"code", "title", "message"}}`). The traceback is
 * dropped; it is for operators, not for a bay's status_reason.
 */
export function heatError(body: unknown, status: number): { message: string; type?: string } {
  const b = (body ?? {}) as { error?: { message?: unknown; type?: unknown }; explanation?: unknown; title?: unknown };
  const type = typeof b.error?.type === "string" ? b.error.type : undefined;
  const candidates = [b.error?.message, b.explanation, b.title];
  for (const c of candidates) if (typeof c === "string" && c.trim()) return { message: c.trim(), type };
  if (typeof body === "string" && body.trim() && !body.trimStart().startsWith("<")) {
    return { message: body.trim().slice(0, 500), type };
  }
  return { message: `Heat answered HTTP ${status}`, type };
}

/** Heat writes "2026-11-25T10:41:43Z" (older releases without the Z): UTC either way → ISO. */
export function heatTime(v: unknown): string | null {
  if (typeof v !== "string" || !v) return null;
  const t = Date.parse(/Z|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
