// One request to Keystone outside authentication: with the service session's token, or with
// a token given by the caller (a user's own, to create a trust as that user). A request that
// gets no answer, and an answer that is a refusal, become IdentityErrors whose messages carry
// Keystone's text but never a token (Keystone's 404 for a token may quote the token itself).
import { safeUrl, TransportError, type HttpRequest, type HttpResponse } from "../../http/index.ts";
import { isRetryableStatus } from "../../../domain/retryable.ts";
import type { Session } from "./session.ts";
import { IdentityError, keystoneMessage } from "./results.ts";

/** Sends `req` with the service session's token (re-authenticating once on a 401). */
export async function asService(session: Session, req: HttpRequest): Promise<HttpResponse> {
  // uwsgi (Keystone) closes every connection after its answer: never reuse one
  return noAnswerToIdentityError(req, () => session.request({ closeConnection: true, ...req }));
}

/** Sends `req` with `token` in X-Auth-Token through the session's transport (no re-authentication). */
export async function asToken(session: Session, token: string, req: HttpRequest): Promise<HttpResponse> {
  return noAnswerToIdentityError(req, () =>
    session.transport.send({ closeConnection: true, ...req, headers: { ...req.headers, "x-auth-token": token } }),
  );
}

/** An IdentityError for a refusal: "`what` (HTTP n): Keystone's message", each secret blanked. */
export function refused(res: HttpResponse, what: string, secrets: string[] = []): IdentityError {
  return new IdentityError(
    `${what} (HTTP ${res.status}): ${scrub(keystoneMessage(res.body, res.status), secrets)}`,
    res.status,
    isRetryableStatus(res.status),
  );
}

/** `text` with every occurrence of each secret replaced. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("[redacted]");
  return out;
}

async function noAnswerToIdentityError(req: HttpRequest, send: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await send();
  } catch (e) {
    if (e instanceof TransportError) throw transportToIdentityError(e, `${req.method} ${safeUrl(req.url)}`);
    throw e;
  }
}

/** An IdentityError for a request that got no usable answer (`what`: method and safe URL). */
export function transportToIdentityError(e: TransportError, what: string): IdentityError {
  if (e.kind === "too_large") return new IdentityError(`Keystone: ${e.message}`, undefined, false);
  return new IdentityError(`Keystone did not answer ${what} (${e.kind}: ${e.code ?? e.message}, ${e.attempts} attempt(s))`, undefined, e.retryable);
}
