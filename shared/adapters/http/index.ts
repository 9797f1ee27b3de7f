// The one HTTP transport, for every adapter that speaks HTTP (OpenStack's APIs, a bay's Kubernetes API).
export { HttpTransport, safeUrl, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES, type HttpRequest, type HttpResponse, type Method, type TransportOptions } from "./transport.ts";
export { formatBytes, TransportError, TOO_LARGE, type TransportFailure } from "./errors.ts";
export { DEFAULT_RETRY, type RetryNotice, type RetryPolicy } from "./retry.ts";
