// StackHistory on Heat: GET …/stacks/{id} (Heat answers 302 to …/{name}/{id}), then the
// stack's events two levels deep, oldest first; each resource's span runs from its
// *_IN_PROGRESS event to the *_COMPLETE or *_FAILED one that follows. A nested stack's own
// events repeat its parent resource's and are left out. Sent with the person's token.
import type { HttpTransport } from "../../http/index.ts";
import type { ResourceSpan, StackHistory } from "../../../ports/stack-history.ts";
import { parseStackURL, stackURL } from "./stacks/urls.ts";

type HeatEvent = {
  event_time?: string;
  resource_name?: string;
  logical_resource_id?: string;
  physical_resource_id?: string;
  resource_status?: string;
  resource_status_reason?: string | null;
  links?: Array<{ href?: string; rel?: string }>;
};

/** Heat keeps every event; a bay's stack has a few hundred at two levels. */
const MAX_EVENTS = 2000;

export class HeatStackHistory implements StackHistory {
  constructor(private readonly transport: HttpTransport) {}

  async spans(userToken: string, orchestrationUrl: string, stackId: string): Promise<ResourceSpan[]> {
    const headers = { "x-auth-token": userToken, accept: "application/json" };
    const base = orchestrationUrl.replace(/\/+$/, "");
    const found = await this.transport.send({ method: "GET", url: `${base}/stacks/${encodeURIComponent(stackId)}`, headers });
    const ref = found.status >= 300 && found.status < 400 && found.headers.location ? parseStackURL(found.headers.location) : undefined;
    if (!ref) return [];
    const res = await this.transport.send({ method: "GET", url: `${stackURL(base, ref.name, ref.id)}/events?nested_depth=2&sort_dir=asc&limit=${MAX_EVENTS}`, headers });
    if (res.status !== 200) return [];
    const events = ((res.body as { events?: HeatEvent[] } | undefined)?.events ?? []).filter((e) => typeof e.event_time === "string");
    const open = new Map<string, ResourceSpan>();
    const spans: ResourceSpan[] = [];
    for (const e of events) {
      const stack = parseStackURL(e.links?.find((l) => l.rel === "stack")?.href ?? "")?.name ?? "";
      const name = e.resource_name ?? e.logical_resource_id ?? "";
      if (name === stack) continue; // the nested stack's own events
      const status = e.resource_status ?? "";
      const key = `${stack}/${name}`;
      const at = heatTime(e.event_time!);
      if (status.endsWith("_IN_PROGRESS")) {
        const span = { resource: name, stack, status, reason: e.resource_status_reason ?? null, start: at, end: null };
        open.set(key, span);
        spans.push(span);
      } else {
        const span = open.get(key);
        if (!span) continue;
        open.delete(key);
        Object.assign(span, { status, reason: e.resource_status_reason ?? null, end: at });
      }
    }
    return spans;
  }
}

/** Heat writes "2026-11-25T10:41:43Z" (older releases without the Z): UTC either way. */
const heatTime = (t: string) => (/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`);
