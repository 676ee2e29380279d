// How much work each benchmark does: its full workload by default; a token one with BENCH_QUICK=1, on which every
// module runs end to end in seconds (the smoke test's, and a trial of the harness: its figures mean nothing);
// either replaced by the module's own variable (BENCH_CYCLES=500 …).
export const quick = ['1', 'true'].includes(process.env.BENCH_QUICK ?? '');

export function workload(variable, full, tiny) {
  const set = process.env[variable];
  if (set === undefined || set === '') return quick ? tiny : full;
  const n = Number(set);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${variable}=${set} is not a workload: expected a whole number of at least 1`);
  return n;
}
