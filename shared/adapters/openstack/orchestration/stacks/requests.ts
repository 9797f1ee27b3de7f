// What the client asks Heat: the bodies of stack create (POST) and update (PATCH).
import type { StackCreateRequest, StackUpdateRequest } from "../../../../ports/orchestrator.ts";

/**
 * A template parsed with js-yaml's default schema turns `heat_template_version: 2015-04-30`
 * into a Date, which JSON would send as "2015-04-30T00:00:00.000Z" and Heat would reject.
 * Put the date back the way it was written.
 */
function templateForJson(template: Record<string, unknown>): Record<string, unknown> {
  const v = template.heat_template_version;
  if (v instanceof Date) return { ...template, heat_template_version: v.toISOString().slice(0, 10) };
  return template;
}

export function createBody(req: StackCreateRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    stack_name: req.stack_name,
    template: templateForJson(req.template),
    files: req.files ?? {},
    parameters: req.parameters ?? {},
  };
  if (req.timeout_mins !== undefined) body.timeout_mins = req.timeout_mins;
  return body;
}

/** PATCH body: only what changes; Heat keeps the rest (existing: true semantics). */
export function updateBody(req: StackUpdateRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { parameters: req.parameters ?? {} };
  if (req.clear_parameters?.length) body.clear_parameters = req.clear_parameters;
  if (req.timeout_mins !== undefined) body.timeout_mins = req.timeout_mins;
  if (req.template) body.template = templateForJson(req.template);
  if (req.files) body.files = req.files;
  if (req.disable_rollback !== undefined) body.disable_rollback = req.disable_rollback;
  return body;
}
