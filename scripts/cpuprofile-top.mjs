#!/usr/bin/env node
// Summarise V8 CPU profiles (`node --cpu-prof`, or LABRUN_CPU_PROF_DIR for benchmarks): the functions with the
// most self time, and the packages (node_modules/<name>, a labrun lib or app, node internals) they belong to.
// Usage: node scripts/cpuprofile-top.mjs <file.cpuprofile>... [--top N] [--window FROM,TO] [--total]
// --window keeps the samples between two CLOCK_MONOTONIC times in microseconds (what process.hrtime.bigint() / 1000n
// prints in any process on the machine), to look at one phase of a benchmark. --total also lists the functions by
// total time: their own and that of everything they called.
import fs from 'node:fs';

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 25;
const totalIndex = args.indexOf('--total');
const withTotal = totalIndex >= 0 && args.splice(totalIndex, 1).length === 1;
const windowIndex = args.indexOf('--window');
const [from, to] = windowIndex >= 0 ? args.splice(windowIndex, 2)[1].split(',').map(Number) : [-Infinity, Infinity];
if (args.length === 0) {
  console.error('usage: node scripts/cpuprofile-top.mjs <file.cpuprofile>... [--top N]');
  process.exit(2);
}

const where = (url) => {
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/(libs|apps)\/([^/]+)\//.exec(url);
  if (own) return `labrun ${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
};

for (const file of args) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  // timeDeltas[i] is the time before sample i; attribute it to that sample's node.
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= from && at <= to) dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...dt.values()].reduce((a, b) => a + b, 0);
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const fns = new Map();
  const totals = new Map();
  const pkgs = new Map();
  for (const [id, us] of dt) {
    const { callFrame: f } = byId.get(id);
    fns.set(nameOf(f), (fns.get(nameOf(f)) ?? 0) + us);
    pkgs.set(where(f.url), (pkgs.get(where(f.url)) ?? 0) + us);
    // Each function on the sample's stack once, however often it recurs.
    const onStack = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) onStack.add(nameOf(byId.get(at).callFrame));
    for (const key of onStack) totals.set(key, (totals.get(key) ?? 0) + us);
  }
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  console.log('  by package:');
  for (const [k, us] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(us)}  ${k}`);
  console.log('  by function (self time):');
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
  if (!withTotal) continue;
  console.log('  by function (total time):');
  for (const [k, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
}

function nameOf(f) {
  return `${f.functionName || '(anonymous)'} ${where(f.url)}${f.url && !f.url.includes('node_modules') ? `:${f.lineNumber + 1}` : ''}`;
}
