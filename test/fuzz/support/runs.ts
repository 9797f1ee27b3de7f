// How many cases a property runs, the same way in every fuzz file: FUZZ_SCALE=<x> multiplies the
// runs (a deeper search before a release), FUZZ_SEED=<n> replays the run fast-check reported.
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

export const fuzzParams = (numRuns: number) => ({
  numRuns: Math.max(1, Math.round(numRuns * SCALE)),
  // the assertion's own message (what was sent, what came back) in the failure report
  includeErrorInReport: true,
  ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
});
