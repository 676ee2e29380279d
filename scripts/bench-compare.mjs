#!/usr/bin/env node
// The benchmarks of two revisions in one sitting, so that "it got no worse" rests on figures from the same machine,
// minutes apart (this project's machines differ 2-3× in absolute figures, and one machine drifts over a day):
//
//   npm run bench -- --compare <before> [<after>] [--only resume,many,throughput] [--rounds 2] [--no-build]
//   node scripts/bench-compare.mjs <before> [<after>] [same options]
//
// <before> and <after> are git revisions, each checked out in a worktree under a temporary directory, installed
// (`npm ci`) and built there, and removed at the end; or the path of a checkout that is built already (./… or /…),
// used as it is. <after> is this checkout by default. This checkout is built first unless --no-build: its bench scripts
// measure both builds (through LABRUN_BUILD_ROOT: services are started from that build's dist, libraries loaded from
// it), so both get the same measurements, the broker floor included, even where the old revision had none. The two
// take turns, before, after, before, after … (--rounds pairs, 2 by default), so that drift over the sitting falls on
// both alike. The table of both goes into RESULTS.md (BENCH_OUT's, else bench/'s) under a dated heading with the
// machine, above the earlier comparisons; `npm run bench` leaves that part of the file as it is. With BENCH_QUICK=1
// (a trial of the harness, see bench/workload.mjs) it goes to BENCH_OUT or $TMPDIR/labrun-bench-quick instead.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPARISONS_HEADING, comparisonsPart, describeCheckout, describeCode, describeMachine, machine } from './bench-results.mjs';
import { nxBin } from './nx-bin.mjs';
import { quick } from '../bench/workload.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node scripts/bench-compare.mjs <before> [<after>] [--only resume,many,throughput] [--rounds 2] [--no-build]';
const startedAt = Date.now();
const minutes = (since) => Math.round((Date.now() - since) / 6000) / 10;

const options = parseArgs(process.argv.slice(2));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-bench-compare-'));
const worktrees = [];
// The step running now (npm ci, a build, a round of the bench), in a process group of its own: a signal to this
// script ends the whole group (a round's brokers and services with it), then the worktrees go.
let current = null;
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
]) {
  process.on(signal, async () => {
    console.error(`\n[compare] ${signal}: stopping, removing the worktrees`);
    // npm ci, for one, takes its time over SIGINT: what has not ended within 5 s is killed, before its files go.
    if (current) {
      const { child, exited } = current;
      const waited = (ms) => Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);
      killGroup(child, signal);
      if (!(await waited(5000))) {
        killGroup(child, 'SIGKILL');
        await waited(2000);
      }
    }
    cleanUp();
    process.exit(128 + number);
  });
}

let exitCode = 1;
try {
  exitCode = await compare();
} catch (error) {
  console.error(`[compare] ${error.message}`);
} finally {
  cleanUp();
}
process.exit(exitCode);

async function compare() {
  // This checkout's build runs the bench (its testkit starts the services), whichever builds it measures.
  if (options.build) await buildIn(root, 'this checkout');
  const before = await prepare('before', options.before);
  const after = await prepare('after', options.after);
  const load = [os.loadavg()[0]];
  const rounds = [];
  const benchStarted = Date.now();
  for (let round = 1; round <= options.rounds; round++) {
    for (const side of [before, after]) {
      const out = path.join(tmp, `round-${round}-${side.label}`);
      console.log(`\n[compare] round ${round} of ${options.rounds}: ${side.label}, ${describeCode(side.checkout)}`);
      const code = await run(process.execPath, [path.join(root, 'scripts', 'bench.mjs'), '--no-build', ...options.only], {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, LABRUN_BUILD_ROOT: side.root, BENCH_OUT: out },
      });
      const file = path.join(out, 'results.json');
      const report = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
      if (!report) console.error(`[compare] round ${round}, ${side.label}: the bench wrote no results (exit code ${code})`);
      rounds.push({ round, side: side.label, report });
    }
  }
  load.push(os.loadavg()[0]);
  const section = comparisonSection({
    date: new Date(),
    machine: machine(),
    node: process.version,
    load,
    scripts: describeCheckout(root),
    before,
    after,
    rounds,
    only: options.only,
    benchMinutes: minutes(benchStarted),
  });
  // A quick comparison's token figures never go into bench/RESULTS.md.
  const outDir = path.resolve(process.env.BENCH_OUT ?? (quick ? path.join(os.tmpdir(), 'labrun-bench-quick') : path.join(root, 'bench')));
  const mdFile = path.join(outDir, 'RESULTS.md');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(mdFile, withComparison(fs.existsSync(mdFile) ? fs.readFileSync(mdFile, 'utf8') : '', section));
  console.log(`\n${section}\n[compare] written to ${path.relative(root, mdFile)}; ${minutes(startedAt)} min in all`);
  return rounds.every((r) => r.report && r.report.failed.length === 0) ? 0 : 1;
}

/** A side of the comparison: `{ label, root, checkout }`, built and ready to measure. */
async function prepare(label, spec) {
  if (spec === null) return { label, root, checkout: describeCheckout(root) };
  if (/^[./]/.test(spec)) {
    const dir = path.resolve(spec);
    const entry = path.join(dir, 'apps', 'engine', 'dist', 'main.js');
    if (!fs.existsSync(entry)) throw new Error(`${label}: ${dir} is not a built labrun checkout (no ${entry}): build it there first, or name a git revision`);
    return { label, root: dir, checkout: describeCheckout(dir) };
  }
  const revision = spawnSync('git', ['-C', root, 'rev-parse', '--verify', '--quiet', `${spec}^{commit}`], { encoding: 'utf8' });
  if (revision.status !== 0) {
    throw new Error(`${label}: "${spec}" is neither a git revision here nor the path of a built checkout (./… or /…); to run only some modules: --only resume,many\n${USAGE}`);
  }
  const dir = path.join(tmp, label);
  await step(`${label}: worktree of ${spec} in ${dir}`, 'git', ['-C', root, 'worktree', 'add', '--detach', dir, revision.stdout.trim()]);
  worktrees.push(dir);
  await step(`${label}: npm ci`, 'npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
  await buildIn(dir, label);
  return { label, root: dir, checkout: describeCheckout(dir) };
}

function buildIn(dir, label) {
  return step(`${label}: build`, process.execPath, [nxBin(dir), 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: dir,
    env: { ...process.env, NX_TUI: 'false', NX_DAEMON: 'false' },
  });
}

/** Run a preparation step quietly; its output is shown only if it fails, which ends the comparison. */
async function step(what, command, args, spawnOptions = {}) {
  const started = Date.now();
  process.stdout.write(`[compare] ${what} … `);
  let output = '';
  const code = await run(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] }, (chunk) => (output += chunk));
  if (code !== 0) throw new Error(`\n${what} failed (exit code ${code}):\n${output.slice(-4000)}`);
  console.log(`${Math.round((Date.now() - started) / 1000)} s`);
}

/** Spawn in a process group of its own, and resolve with the exit code; the child is `current` meanwhile. */
function run(command, args, spawnOptions, onOutput) {
  const child = spawn(command, args, { ...spawnOptions, detached: true });
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const exited = new Promise((resolve) => {
    child.on('error', (error) => {
      onOutput?.(error.message);
      resolve(null);
    });
    child.on('exit', (code, signal) => resolve(code ?? signal));
  });
  current = { child, exited };
  return exited.finally(() => (current = null));
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group has ended already
  }
}

/** The worktrees go (git's record of them too), then the temporary directory; never anything else. */
function cleanUp() {
  for (const dir of worktrees.splice(0)) {
    const removed = spawnSync('git', ['-C', root, 'worktree', 'remove', '--force', dir], { encoding: 'utf8' });
    if (removed.status !== 0) console.error(`[compare] could not remove the worktree ${dir}: ${removed.stderr.trim()} (git worktree remove --force ${dir})`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

function parseArgs(args) {
  const parsed = { before: null, after: null, only: [], rounds: 2, build: true };
  const sides = [];
  const value = (i, flag) => {
    if (args[i] === undefined || args[i].startsWith('--')) fail(`${flag} needs a value`);
    return args[i];
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--no-build') parsed.build = false;
    else if (arg === '--only')
      parsed.only = value(++i, arg)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (arg === '--rounds') parsed.rounds = Number(value(++i, arg));
    else if (arg === '--help' || arg === '-h') fail(null);
    else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else sides.push(arg);
  }
  if (sides.length < 1 || sides.length > 2) fail(sides.length === 0 ? 'name the revision to compare with (before)' : `too many revisions: ${sides.join(' ')}`);
  if (!Number.isInteger(parsed.rounds) || parsed.rounds < 1) fail('--rounds expects a whole number of at least 1 (each round measures before, then after)');
  [parsed.before, parsed.after = null] = sides;
  return parsed;
}

function fail(message) {
  if (message) console.error(`[compare] ${message}`);
  console.error(USAGE);
  process.exit(message ? 2 : 0);
}

/** The markdown of one comparison: a heading with the date, what was compared on what, and a table per module. */
function comparisonSection({ date, machine: m, node, load, scripts, before, after, rounds, only, benchMinutes }) {
  const reports = rounds.filter((r) => r.report);
  const token = reports.some((r) => r.report.quick);
  const brokers = new Map(reports.flatMap((r) => r.report.brokers.map((b) => [b.id, b])));
  const order = rounds.map((r) => r.side).join(', ');
  const lines = [
    `## ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${before.checkout.revision ?? before.root} → ${after.checkout.revision ?? after.root}`,
    '',
    `- Before: ${describeCode(before.checkout)}`,
    `- After: ${describeCode(after.checkout)}`,
    `- Machine: ${describeMachine(m)}; Node.js ${node}; 1-minute load average ${load.map((l) => l.toFixed(2)).join(' at the start, ')} at the end`,
    `- Rounds: ${order}, each \`node scripts/bench.mjs --no-build${only.length ? ` ${only.join(' ')}` : ''}\` of ${describeCode(scripts)} against that build; ${benchMinutes} min`,
    ...(token ? ['- Workload: BENCH_QUICK=1, a token one that only shows the harness works: these figures mean nothing'] : []),
    `- Brokers: ${[...brokers.values()].map((b) => `${b.id} = ${b.name}`).join('; ') || 'none'}`,
    '',
    'Each cell lists the rounds in order; the change is the after median over the before median. Throughput is also a share of the broker ' +
      'floor measured in the same round, and resume latency a ratio to the round trip floor: those figures carry across machines.',
    '',
  ];
  for (const [module, bench] of modulesOf(reports)) {
    lines.push(`### ${bench.name}`, '', `\`bench/${module}\``, '', '| figure | broker | before | after | change | unit |', '| --- | --- | ---: | ---: | ---: | --- |');
    for (const row of bench.rows.values()) {
      const cell = (side) =>
        rounds
          .filter((r) => r.side === side)
          .map((r) => valueOf(r.report, module, row))
          .join(' · ');
      const values = (side) =>
        rounds
          .filter((r) => r.side === side)
          .map((r) => valueOf(r.report, module, row))
          .filter((v) => typeof v === 'number');
      lines.push(`| ${row.label} | ${row.broker ?? '–'} | ${cell('before')} | ${cell('after')} | ${change(median(values('before')), median(values('after')))} | ${row.unit} |`);
    }
    lines.push('');
  }
  const failures = rounds.flatMap((r) =>
    r.report ? r.report.failed.map((f) => `- ${r.side}, round ${r.round}: \`bench/${f.module}\` failed: ${f.error}`) : [`- ${r.side}, round ${r.round}: the bench wrote no results`],
  );
  if (failures.length > 0) lines.push('Failed (no figures from these):', '', ...failures, '');
  return lines.join('\n');
}

/** Each module measured in any round, with its figures as rows (one per label and broker), in the order they came. */
function modulesOf(reports) {
  const modules = new Map();
  for (const { report } of reports) {
    for (const bench of report.benches) {
      if (!modules.has(bench.module)) modules.set(bench.module, { name: bench.name, rows: new Map() });
      const rows = modules.get(bench.module).rows;
      for (const f of bench.figures) if (!rows.has(`${f.broker}/${f.label}`)) rows.set(`${f.broker}/${f.label}`, { broker: f.broker, label: f.label, unit: f.unit });
    }
  }
  return modules;
}

function valueOf(report, module, row) {
  const figure = report?.benches.find((b) => b.module === module)?.figures.find((f) => f.broker === row.broker && f.label === row.label);
  return figure?.value ?? '–';
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function change(before, after) {
  if (before === null || after === null || before === 0) return '–';
  const percent = Math.round((after / before - 1) * 1000) / 10;
  return `${percent > 0 ? '+' : percent < 0 ? '−' : '±'}${Math.abs(percent)} %`;
}

/** RESULTS.md with `section` as the newest comparison: the part of the file before the comparisons stays as it is. */
function withComparison(markdown, section) {
  const results = markdown.slice(0, markdown.length - comparisonsPart(markdown).length).trimEnd();
  const earlier = comparisonsPart(markdown)
    .split(/^(?=## )/m)
    .slice(1)
    .join('')
    .trimEnd();
  const intro = [
    COMPARISONS_HEADING,
    '',
    'Written by `npm run bench -- --compare <revision>` (scripts/bench-compare.mjs), newest first; `npm run bench` keeps this part. Each is two ' +
      'builds measured alternately by the same bench scripts in one sitting, which is what makes their figures comparable.',
  ].join('\n');
  return `${[results, intro, section.trimEnd(), earlier].filter(Boolean).join('\n\n')}\n`;
}
