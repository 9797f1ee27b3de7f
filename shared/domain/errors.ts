// Errors a user sees: each has an HTTP status and a message that says what is wrong, and
// is rendered in Magnum's envelope by the API ({"errors":[{code, status, title, detail}]}).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string = title.endsWith(".") ? title : `${title}.`,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

/**
 * A value as JSON for a message, cut at `max` characters ("..." when cut). It stops walking the
 * value once it has them, so a value nested thousands deep (JSON.stringify overflows the stack)
 * or a YAML alias bomb (a few hundred bytes standing for billions of nodes) costs no more than
 * a small one.
 */
export function preview(v: unknown, max = 80): string {
  let out = "";
  const walk = (x: unknown): void => {
    if (out.length > max) return;
    if (x !== null && typeof x === "object" && typeof (x as { toJSON?: unknown }).toJSON === "function") x = (x as { toJSON(): unknown }).toJSON();
    if (x === null || typeof x !== "object") {
      out += (typeof x === "string" ? JSON.stringify(x.slice(0, max + 1)) : JSON.stringify(x)) ?? "null";
      return;
    }
    // every level adds a bracket before going deeper: the recursion stops within `max` levels
    const array = Array.isArray(x);
    out += array ? "[" : "{";
    let first = true;
    if (array) {
      const items = x as unknown[];
      for (let i = 0; i < items.length && out.length <= max; i++, first = false) {
        if (!first) out += ",";
        walk(items[i]);
      }
    } else {
      for (const k in x) {
        if (out.length > max) break;
        const value = (x as Record<string, unknown>)[k];
        if (!Object.hasOwn(x, k) || value === undefined || typeof value === "function" || typeof value === "symbol") continue;
        out += `${first ? "" : ","}${JSON.stringify(k)}:`;
        first = false;
        walk(value);
      }
    }
    out += array ? "]" : "}";
  };
  if (typeof v === "string") out = v.slice(0, max + 1);
  else if (v === undefined || typeof v === "function" || typeof v === "symbol") out = String(v);
  else walk(v);
  return out.length > max ? `${out.slice(0, max - 3)}...` : out;
}

const show = (v: unknown): string => preview(v, 80);

/** Magnum's wording for a bad field: "Invalid input for field/attribute node_count. Value: '0'. ..." */
export const invalidField = (field: string, value: unknown, reason: string): ApiError =>
  new ApiError(
    400,
    `Invalid input for field/attribute ${field}`,
    `Invalid input for field/attribute ${field}. Value: '${show(value)}'. ${reason}`,
  );

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);
export const conflict = (message: string): ApiError => new ApiError(409, message);
