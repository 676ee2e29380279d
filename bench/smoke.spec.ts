// The benchmark harness keeps working: `npm run bench` with every module on a tiny workload (BENCH_QUICK=1), on
// labrun's broker only, writing its report to a directory of its own; and the before/after comparison of two builds.
// Figures are measured, never judged (issue 6): this checks that every module ran to the end, gave its figures as
// numbers, and that the reports were written.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = ['command-throughput.mjs', 'fleet-resume.mjs', 'immediate-pause.mjs', 'journal-sync.mjs', 'many-runs.mjs', 'resume-latency.mjs', 'serial-streaming.mjs', 'wait-for-latency.mjs'];

const outs: string[] = [];
afterAll(async () => {
  for (const out of outs) await rm(out, { recursive: true, force: true });
});
const outDir = async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'labrun-bench-smoke-'));
  outs.push(out);
  return out;
};

/** Run a script of scripts/ to the end: its exit code and everything it printed. */
async function script(name: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(root, 'scripts', name), ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), 150_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}

interface Report {
  node: string;
  machine: { cpu: string; cores: number };
  brokers: Array<{ id: string }>;
  benches: Array<{ module: string; name: string; figures: Array<{ broker: string | null; label: string; value: unknown; unit: string }> }>;
  failed: unknown[];
}

const QUICK = { BENCH_QUICK: '1', BENCH_BROKERS: 'aedes' };
// Where the services come from: this checkout's build, or the one LABRUN_BUILD_ROOT names.
const built = process.env.LABRUN_BUILD_ROOT || root;
const earlierComparison = '# Before and after\n\nWritten by `npm run bench -- --compare <revision>`.\n\n## 2026-12-01 09:00 UTC: 1111111 → 2222222\n\n| figure |\n';

it('runs every benchmark module on a tiny workload and writes results.json and RESULTS.md', async () => {
  const out = await outDir();
  const committed = await stat(path.join(root, 'bench', 'results.json'));
  await writeFile(path.join(out, 'RESULTS.md'), `# Benchmark results\n\nfrom an earlier run\n\n${earlierComparison}`);
  const { code, output } = await script('bench.mjs', ['--no-build'], { ...QUICK, BENCH_OUT: out });
  expect(code, output).toBe(0);

  const report = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as Report;
  expect(report.failed).toEqual([]);
  expect(report.node).toBe(process.version);
  expect(report.brokers.map((b) => b.id)).toEqual(['aedes']);
  expect(report.benches.map((b) => b.module)).toEqual(MODULES);
  for (const bench of report.benches) {
    expect(bench.figures.length, bench.module).toBeGreaterThan(0);
    for (const figure of bench.figures) {
      expect([bench.module, figure.label, Number.isFinite(figure.value)]).toEqual([bench.module, figure.label, true]);
      expect([null, 'aedes']).toContain(figure.broker);
    }
  }
  // Throughput is also given as a share of the broker floor measured in the same run.
  const throughput = report.benches.find((b) => b.module === 'command-throughput.mjs')!.figures;
  const figure = (label: string) => throughput.find((f) => f.label === label)?.value as number;
  const floor = figure('broker floor: QoS 1 messages per second, one publisher to one subscriber');
  expect(floor).toBeGreaterThan(0);
  expect(figure('commands per second as a share of the broker floor')).toBeCloseTo((figure('commands per second') / floor) * 100, 0);
  const markdown = await readFile(path.join(out, 'RESULTS.md'), 'utf8');
  expect(markdown).toContain(`- Node.js: ${process.version}`);
  expect(markdown).toMatch(new RegExp(`- Machine: .+, ${report.machine.cores} cores`));
  expect(markdown).toContain('- Workload: BENCH_QUICK=1');
  for (const bench of report.benches) expect(markdown).toContain(`## ${bench.name}`);
  expect(markdown).toContain('| commands per second as a share of the broker floor |');
  // The earlier results are replaced; the comparisons below them are kept.
  expect(markdown).not.toContain('from an earlier run');
  expect(markdown.slice(-earlierComparison.length)).toBe(earlierComparison);
  // The committed results are left as they are.
  expect((await stat(path.join(root, 'bench', 'results.json'))).mtimeMs).toBe(committed.mtimeMs);
});

it('compares two builds in one sitting, before and after taking turns, and adds the table above the earlier comparisons', async () => {
  const out = await outDir();
  const committed = await stat(path.join(root, 'bench', 'RESULTS.md'));
  const results = '# Benchmark results\n\nthe last full run\n';
  await writeFile(path.join(out, 'RESULTS.md'), `${results}\n${earlierComparison}`);
  // The same build on both sides (a checkout's path skips the worktree, install and build a revision gets).
  const { code, output } = await script('bench.mjs', ['--compare', built, built, '--no-build', '--rounds', '2', '--only', 'throughput,journal'], { ...QUICK, BENCH_OUT: out });
  expect(code, output).toBe(0);
  expect(output.match(/\[compare\] round \d of 2: \w+/g)).toEqual([
    '[compare] round 1 of 2: before',
    '[compare] round 1 of 2: after',
    '[compare] round 2 of 2: before',
    '[compare] round 2 of 2: after',
  ]);

  const markdown = await readFile(path.join(out, 'RESULTS.md'), 'utf8');
  const resultsThenComparisons = `${results}\n# Before and after\n`;
  expect(markdown.slice(0, resultsThenComparisons.length)).toBe(resultsThenComparisons);
  const newest = markdown.indexOf('\n## ');
  expect(markdown.slice(newest + 1)).toMatch(/^## \d{4}-\d\d-\d\d \d\d:\d\d UTC: \S+ → \S+\n/);
  expect(newest).toBeLessThan(markdown.indexOf('## 2026-12-01 09:00 UTC: 1111111 → 2222222'));
  expect(markdown).toMatch(new RegExp(`- Machine: .+, ${os.cpus().length} cores, .+; Node.js ${process.version.replaceAll('.', '\\.')}`));
  expect(markdown).toContain('- Rounds: before, after, before, after, each `node scripts/bench.mjs --no-build throughput journal`');
  for (const heading of ['### Command throughput (500 comments)', '### Journal: append and fdatasync']) expect(markdown).toContain(heading);
  // A row per figure and broker: both rounds of each side, and the change between their medians.
  const number = String.raw`\d+(?:\.\d+)?`;
  const rounds = `${number} · ${number}`;
  expect(markdown).toMatch(new RegExp(`\\| commands per second as a share of the broker floor \\| aedes \\| ${rounds} \\| ${rounds} \\| [+−±]${number} % \\| % \\|`));
  expect(markdown).toMatch(new RegExp(`\\| one event: append \\+ flush p50 \\| – \\| ${rounds} \\| ${rounds} \\| [+−±]${number} % \\| ms \\|`));
  expect((await stat(path.join(root, 'bench', 'RESULTS.md'))).mtimeMs).toBe(committed.mtimeMs);
});
