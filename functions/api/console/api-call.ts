// The console acts through the API itself: each page asks the API's own app in-process
// (app.fetch) with the person's token in X-Auth-Token, so the console sees exactly what the
// API lets that token see: the same Keystone middleware, scoping and validation, no second
// authorization logic.

export type AppFetch = (req: Request) => Response | Promise<Response>;

/** The API answered 401: the session's token is no longer valid (signed out, expired, revoked). */
export class NotSignedIn extends Error {
  constructor() {
    super("not signed in");
    this.name = "NotSignedIn";
  }
}

export interface Answer {
  status: number;
  ok: boolean;
  body: any;
}

/** `version`: the microversion asked for (default latest; the bay API ends at 1.10). */
export type Api = (method: string, path: string, body?: unknown, contentType?: string, version?: string) => Promise<Answer>;

export function apiFor(fetch: AppFetch, origin: string, token: string): Api {
  return async (method, path, body, contentType = "application/json", version = "latest") => {
    const headers: Record<string, string> = { "x-auth-token": token, "openstack-api-version": `container-infra ${version}`, accept: "application/json" };
    let payload: string | undefined;
    if (body !== undefined) {
      headers["content-type"] = contentType;
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const res = await fetch(new Request(origin + path, { method, headers, body: payload }));
    if (res.status === 401) throw new NotSignedIn();
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, ok: res.status >= 200 && res.status < 300, body: parsed };
  };
}

/** The message of the API's error envelope (Magnum's `errors[0].detail`). */
export function apiMessage(a: Answer): string {
  const e = (a.body as { errors?: Array<{ detail?: string; title?: string }> } | undefined)?.errors?.[0];
  return e?.detail ?? e?.title ?? `The API answered HTTP ${a.status}.`;
}

/** A path segment from a URL parameter (uuids and names), encoded. */
export const seg = (s: string) => encodeURIComponent(s);
