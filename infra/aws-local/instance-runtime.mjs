// One Lambda function instance (an execution environment): a child process that imports the
// function's bundle once (Lambda's init phase), then runs one invocation at a time, as the
// Node.js runtime does, with a context shaped like Lambda's. The parent (function-pool.ts)
// sends {type: "invoke", ...} over the IPC channel and enforces the timeout by killing this
// process. Plain JavaScript on purpose: nothing (tsx, a loader) runs here that Lambda's
// runtime would not run.
//   node instance-runtime.mjs <bundle dir> <export name>
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [dir, exportName] = process.argv.slice(2);
const send = (m) => process.send?.(m);
const asError = (e) => ({
  errorType: e?.name ?? "Error",
  errorMessage: e?.message ?? String(e),
  trace: String(e?.stack ?? "").split("\n"),
});

let handler;
const t0 = performance.now();
try {
  const mod = await import(pathToFileURL(join(dir, "index.mjs")).href);
  handler = mod[exportName];
  if (typeof handler !== "function") throw Object.assign(new Error(`index.${exportName} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  send({ type: "ready", initMs: performance.now() - t0 });
} catch (e) {
  send({ type: "init-error", error: asError(e) });
  process.exit(1);
}

let current; // the invocation in progress: an error nobody awaited fails it, as on Lambda
const fail = (e) => {
  if (current !== undefined) send({ type: "error", id: current, error: { ...asError(e), errorType: "Runtime.UnhandledPromiseRejection" } });
  process.exit(129);
};
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);

process.on("message", async (m) => {
  if (m?.type !== "invoke") return;
  current = m.id;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: m.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: m.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, m.deadline - Date.now()),
  };
  const t = performance.now();
  try {
    const value = await (handler.length >= 3
      ? new Promise((ok, no) => handler(m.event, context, (err, v) => (err ? no(err) : ok(v))))
      : handler(m.event, context));
    send({ type: "result", id: m.id, value: value === undefined ? null : value, ms: performance.now() - t });
  } catch (e) {
    send({ type: "error", id: m.id, error: asError(e), ms: performance.now() - t });
  } finally {
    current = undefined;
  }
});
