// The one rule for what is worth another try, which the HTTP transport (a request) and the
// worker (a step's message) both follow.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isRetryableError, isRetryableStatus } from "../../shared/domain/retryable.ts";
import { TransportError } from "../../shared/adapters/http/index.ts";
import { OrchestratorError } from "../../shared/ports/orchestrator.ts";

describe("isRetryableStatus", () => {
  it("retries 408, 429 and 5xx but 501 and 505; nothing else", () => {
    const retried = [200, 201, 204, 302, 400, 401, 403, 404, 408, 409, 413, 429, 500, 501, 502, 503, 504, 505, 599].filter(isRetryableStatus);
    assert.deepEqual(retried, [408, 429, 500, 502, 503, 504, 599]);
  });
});

describe("isRetryableError", () => {
  it("believes an error that says whether it is retryable (the ports' errors, the transport's)", () => {
    assert.equal(isRetryableError(new OrchestratorError("Heat said 503", 503, true)), true);
    assert.equal(isRetryableError(new OrchestratorError("Heat said 400", 400, false)), false);
    assert.equal(isRetryableError(new TransportError("no answer within 10 ms", "timeout", true, 2, "TIMEOUT")), true);
    assert.equal(isRetryableError(new TransportError("too large", "too_large", false, 1, "ERESPONSETOOLARGE")), false);
    // its own word wins over its code
    assert.equal(isRetryableError(Object.assign(new Error("bad certificate"), { code: "ECONNRESET", retryable: false })), false);
  });

  it("retries a raw connection failure by its code, or its cause's", () => {
    for (const code of ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "EHOSTUNREACH", "UND_ERR_SOCKET"])
      assert.equal(isRetryableError(Object.assign(new Error(code), { code })), true, code);
    assert.equal(isRetryableError(new Error("fetch failed", { cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }) })), true);
  });

  it("does not retry a programming error, a refusal or a non-error", () => {
    assert.equal(isRetryableError(new TypeError("x is undefined")), false);
    assert.equal(isRetryableError(Object.assign(new Error("no such file"), { code: "ENOENT" })), false);
    assert.equal(isRetryableError(Object.assign(new Error("bad cert"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" })), false);
    assert.equal(isRetryableError("ECONNRESET"), false);
    assert.equal(isRetryableError(undefined), false);
    const loop: { cause?: unknown } = new Error("loop");
    loop.cause = { cause: loop };
    assert.equal(isRetryableError(loop), false, "a cause cycle ends");
  });
});
