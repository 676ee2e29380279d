// Percentiles and timing helpers shared by the benchmarks.
export function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1), n: sorted.length };
}

/** Figures for a latency distribution in milliseconds. */
export function latencyFigures(label, samplesMs) {
  const p = percentiles(samplesMs);
  return [
    { label: `${label} p50`, value: round(p.p50), unit: 'ms' },
    { label: `${label} p95`, value: round(p.p95), unit: 'ms' },
    { label: `${label} p99`, value: round(p.p99), unit: 'ms' },
    { label: `${label} max`, value: round(p.max), unit: 'ms' },
  ];
}

export const round = (v, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;
export const now = () => Number(process.hrtime.bigint()) / 1e6;
