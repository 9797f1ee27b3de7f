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

const show = (v: unknown): string => {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

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
