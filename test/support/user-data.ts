// A node's user_data exactly as Heat rendered it: the MultipartMime resource of a nested
// master or minion stack is a software config in Heat (what OS::Nova::Server boots with),
// read back through Heat's API and split into its parts, as cloud-init splits it.
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

/** The parts of a multipart/mixed MIME message (7bit or base64 text parts), in order. */
export function mimeParts(message: string): string[] {
  const boundary = /boundary="([^"]+)"/.exec(message)?.[1];
  if (!boundary) throw new Error("not a multipart MIME message (no boundary)");
  const chunks = message.split(`--${boundary}`);
  // chunks[0] is the preamble (the message's headers), the last starts with "--" (the end)
  return chunks.slice(1, -1).map((chunk) => {
    const body = chunk.replace(/^\r?\n/, "");
    const split = body.search(/\r?\n\r?\n/);
    const headers = body.slice(0, split);
    let payload = body.slice(split).replace(/^\r?\n\r?\n/, "").replace(/\r?\n$/, "");
    if (/content-transfer-encoding:\s*base64/i.test(headers)) payload = Buffer.from(payload, "base64").toString("utf8");
    return payload;
  });
}

export interface RenderedNode {
  /** the nested stack (one master or minion) the resource belongs to */
  stackName: string;
  stackId: string;
  /** the MIME message, as a server would receive it as user_data */
  message: string;
  parts: string[];
}

/** The user_data Heat rendered for a bay's first master ("kube_master_init") or minion ("kube_minion_init"). */
export async function renderedUserData(os: OpenStack, stack: { stack_name: string; id: string }, resource: "kube_master_init" | "kube_minion_init"): Promise<RenderedNode> {
  const resources = await os.heat.listResources(stack.stack_name, stack.id, { nestedDepth: 3 });
  const mime = resources
    .filter((r) => r.resource_name === resource)
    .sort((a, b) => String(a.stack_name).localeCompare(String(b.stack_name)))[0];
  if (!mime?.physical_resource_id) throw new Error(`no ${resource} in stack ${stack.stack_name}`);
  const res = await fetch(`${await os.heat.endpoint()}/software_configs/${mime.physical_resource_id}`, {
    headers: { "x-auth-token": await os.session.token(), accept: "application/json" },
  });
  if (!res.ok) throw new Error(`software config ${mime.physical_resource_id}: ${res.status}`);
  const message = ((await res.json()) as { software_config: { config: string } }).software_config.config;
  return { stackName: mime.stack_name!, stackId: mime.stack_id!, message, parts: mimeParts(message) };
}
