#!/usr/bin/env node
// `npm run bench`: build, run every benchmark module in bench/ (each exports `async function run()` returning
// `{ name, description, figures: [{ broker, label, value, unit }] }`, `broker` being the id of the broker the figure
// was measured on, or null where none is involved; a module without `run` is a helper and is skipped), and write
// the results with the machine and brokers they ran on to bench/results.json and bench/RESULTS.md.
// `npm run bench -- serial` runs only the modules whose file name contains "serial" (`-- resume many` those matching
// either); `--no-build` uses the builds already there; BENCH_OUT=<dir> writes the results there instead of bench/ (the
// smoke test's way); BENCH_QUICK=1 runs every module on a token workload (bench/workload.mjs); LABRUN_BUILD_ROOT=<dir>
// measures another checkout's build with these scripts (bench/build.mjs). `npm run bench -- --compare <rev> …` is
// scripts/bench-compare.mjs: this bench on two revisions in one sitting.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { comparisonsPart, describeCheckout, describeCode, describeMachine, machine } from './bench-results.mjs';
import { nxBin } from './nx-bin.mjs';
import { quick } from '../bench/workload.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const args = process.argv.slice(2);
if (args.includes('--compare')) {
  const compare = spawnSync(process.execPath, [path.join(root, 'scripts', 'bench-compare.mjs'), ...args.filter((arg) => arg !== '--compare')], { stdio: 'inherit' });
  process.exit(compare.status ?? 1);
}
const build = !args.includes('--no-build');
const filters = args.filter((arg) => !arg.startsWith('--'));
const filter = filters.join('", "');
// A quick run's token figures never replace the results in bench/.
const outDir = path.resolve(process.env.BENCH_OUT ?? (quick ? path.join(os.tmpdir(), 'labrun-bench-quick') : benchDir));
const startedAt = Date.now();
const seconds = (since) => Math.round((Date.now() - since) / 100) / 10;

if (build) {
  console.log('[bench] building …');
  const built = spawnSync(process.execPath, [nxBin(root), 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NX_TUI: 'false', NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
    encoding: 'utf8',
  });
  if (built.status !== 0) {
    process.stderr.write(built.stdout + built.stderr);
    console.error('[bench] the build failed (see above).');
    process.exit(1);
  }
}
const buildSeconds = build ? seconds(startedAt) : 0;
if (build) console.log(`[bench] built in ${buildSeconds} s`);

// After the build: the testkit that benches start processes with, and that stops them all.
const { buildRoot, stopAll } = await import('@labrun/testkit');
const { describeBrokers } = await import(pathToFileURL(path.join(benchDir, 'brokers.mjs')).href);

const modules = fs
  .readdirSync(benchDir)
  .filter((file) => file.endsWith('.mjs') && !file.endsWith('.spec.mjs') && (filters.length === 0 || filters.some((f) => file.includes(f))))
  .sort();
if (modules.length === 0) {
  console.error(`[bench] no bench/*.mjs module${filter ? ` matching "${filter}"` : ''}`);
  process.exit(1);
}

const results = [];
const failures = [];
for (const file of modules) {
  const { run } = await import(pathToFileURL(path.join(benchDir, file)).href);
  if (typeof run !== 'function') continue; // a helper module (shared code), not a bench
  console.log(`[bench] ${file} …`);
  const started = Date.now();
  try {
    const result = await run();
    const figures = result.figures.map(({ broker = null, label, value, unit }) => ({ broker, label, value, unit }));
    results.push({ module: file, seconds: seconds(started), ...result, figures });
    for (const { broker, label, value, unit } of figures) console.log(`  ${broker ? `${broker}: ` : ''}${label}: ${value} ${unit}`);
    console.log(`[bench] ${file}: ${seconds(started)} s`);
  } catch (error) {
    failures.push({ module: file, error: String(error?.message ?? error).split('\n')[0] });
    console.error(`[bench] ${file} failed: ${error?.stack ?? error}`);
  } finally {
    await stopAll(); // whatever processes a bench started (brokers, services) end with it, even when it failed
  }
}

const report = {
  date: new Date().toISOString(),
  node: process.version,
  machine: machine(),
  // The code measured, and the bench scripts that measured it when they come from another checkout.
  code: describeCheckout(buildRoot()),
  scripts: buildRoot() === root ? null : describeCheckout(root),
  quick,
  brokers: describeBrokers(),
  seconds: { build: buildSeconds, total: null },
  benches: results,
  failed: failures,
};
// A partial run (a filter) merges into the last results instead of dropping the other benches.
fs.mkdirSync(outDir, { recursive: true });
const jsonFile = path.join(outDir, 'results.json');
if (filter && fs.existsSync(jsonFile)) {
  const previous = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  for (const broker of previous.brokers ?? []) if (!report.brokers.some((b) => b.id === broker.id)) report.brokers.push(broker);
  report.benches = [...previous.benches.filter((b) => !results.some((r) => r.module === b.module)), ...results].sort((a, b) => a.module.localeCompare(b.module));
}
report.seconds.total = seconds(startedAt);
fs.writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
const mdFile = path.join(outDir, 'RESULTS.md');
const comparisons = fs.existsSync(mdFile) ? comparisonsPart(fs.readFileSync(mdFile, 'utf8')) : '';

const md = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (scripts/bench.mjs); re-run it to refresh. Each section is one module in bench/.',
  '',
  `- Date: ${report.date}`,
  `- Node.js: ${report.node}`,
  `- Machine: ${describeMachine(report.machine)}`,
  `- Code: ${describeCode(report.code)}${report.scripts ? `, the build in ${report.code.dir}, measured by the bench scripts of ${describeCode(report.scripts)}` : ''}`,
  ...(quick ? ['- Workload: BENCH_QUICK=1, a token one that only shows the harness works: these figures mean nothing'] : []),
  `- Time: ${report.seconds.total} s for the whole run${filter ? ` (only modules matching "${filter}")` : ''}, ${build ? `the build (${report.seconds.build} s) included` : 'without a build'}`,
  '- Brokers (a column each where a module was measured on them):',
  ...report.brokers.map((b) => `  - ${b.name}: ${b.detail}`),
  '',
];
const brokerName = (id) => report.brokers.find((b) => b.id === id)?.name ?? id;
for (const bench of report.benches) {
  md.push(`## ${bench.name}`, '', `\`bench/${bench.module}\`, ${bench.seconds} s.`, '');
  if (bench.description) md.push(bench.description, '');
  md.push(...table(bench.figures), '');
}
if (failures.length > 0) {
  md.push('## Failed', '', 'These modules failed on this run, so they have no figures here:', '');
  for (const { module, error } of failures) md.push(`- \`bench/${module}\`: ${error}`);
  md.push('');
}
// The before/after comparisons (scripts/bench-compare.mjs) stay below the results, which they outlive.
if (comparisons) md.push(comparisons.trimEnd(), '');
fs.writeFileSync(mdFile, md.join('\n'));
console.log(`[bench] wrote ${path.relative(root, outDir) || '.'}/results.json and RESULTS.md`);
const total = report.seconds.total;
console.log(`[bench] total ${Math.floor(total / 60)} min ${Math.round(total % 60)} s (build ${report.seconds.build} s)`);
if (failures.length > 0) console.error(`[bench] failed: ${failures.map((f) => f.module).join(', ')}`);
process.exit(failures.length > 0 ? 1 : 0); // a bench that left a handle open must not keep this process alive

/** One row per figure; one value column per broker the figures came from, or a single one where no broker is involved. */
function table(figures) {
  const brokers = [...new Set(figures.map((f) => f.broker).filter(Boolean))];
  if (brokers.length === 0) return ['| figure | value | unit |', '| --- | ---: | --- |', ...figures.map((f) => `| ${f.label} | ${f.value ?? '–'} | ${f.unit} |`)];
  const rows = new Map(); // label → { unit, values by broker }, in the order the figures came
  for (const { broker, label, value, unit } of figures) {
    if (!rows.has(label)) rows.set(label, { unit, values: {} });
    rows.get(label).values[broker] = value;
  }
  return [
    `| figure | ${brokers.map(brokerName).join(' | ')} | unit |`,
    `| --- | ${brokers.map(() => '---:').join(' | ')} | --- |`,
    ...[...rows].map(([label, { unit, values }]) => `| ${label} | ${brokers.map((b) => values[b] ?? '–').join(' | ')} | ${unit} |`),
  ];
}
