// Renders every failure in Magnum's error envelope. 4xx carry the message written for the
// user; anything unexpected becomes a 500 whose detail names only the request id.
import type { Context } from "hono";
import { ApiError } from "../../shared/domain/errors.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import { UnsupportedVersion, MIN_VERSION, MAX_VERSION } from "./microversion.ts";

export function errorBody(requestId: string, status: number, title: string, detail: string) {
  return {
    errors: [{ request_id: requestId, code: status < 500 ? "client" : "server", status, title, detail, links: [] }],
  };
}

export function renderError(c: Context, err: unknown, log: Logger): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? "";
  if (err instanceof UnsupportedVersion) {
    return c.json(
      {
        errors: [
          {
            request_id: requestId,
            code: "magnum.microversion-unsupported",
            status: 406,
            title: err.title,
            detail: err.detail,
            description: err.detail,
            max_version: MAX_VERSION,
            min_version: MIN_VERSION,
            links: [{ rel: "help", href: "https://docs.openstack.org/api-guide/compute/microversions.html" }],
          },
        ],
      },
      406,
    );
  }
  if (err instanceof ApiError) {
    return c.json(errorBody(requestId, err.status, err.title, err.detail), err.status as 400);
  }
  log.error("unhandled error", { requestId, err });
  return c.json(
    errorBody(requestId, 500, "Internal Server Error", `The server could not complete request ${requestId}; see its logs.`),
    500,
  );
}
