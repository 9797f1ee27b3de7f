// Bounded parallelism, the one loop for it: the worker's SQS batches, the batch fan-out and
// the DynamoDB batch writes each run a list through a fixed number of lanes.

/**
 * Runs `fn` over `items`, at most `limit` calls at a time, started in the items' order; the
 * results in the items' order. After a call throws no new one starts; the first error is
 * thrown once the calls still running have settled (nothing runs on after this returns).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer >= 1, not ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failed) throw failed.error;
  return results;
}
