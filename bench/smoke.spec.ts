// The benchmark harness keeps working: `npm run bench` with every module on a tiny workload, on labrun's broker
// only, writing its report to a directory of its own. Figures are measured, never judged (issue 6): this checks
// that every module ran to the end, gave its figures as numbers, and that both reports were written.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = ['command-throughput.mjs', 'immediate-pause.mjs', 'journal-sync.mjs', 'many-runs.mjs', 'resume-latency.mjs', 'serial-streaming.mjs'];

let out: string | undefined;
afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

interface Report {
  node: string;
  machine: { cpu: string; cores: number };
  brokers: Array<{ id: string }>;
  benches: Array<{ module: string; name: string; figures: Array<{ broker: string | null; label: string; value: unknown; unit: string }> }>;
  failed: unknown[];
}

it('runs every benchmark module on a tiny workload and writes results.json and RESULTS.md', async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'labrun-bench-smoke-'));
  const committed = await stat(path.join(root, 'bench', 'results.json'));
  const env = {
    ...process.env,
    BENCH_OUT: out,
    BENCH_BROKERS: 'aedes',
    BENCH_CYCLES: '20',
    BENCH_RUNS: '20',
    BENCH_COMMANDS: '500',
    BENCH_MOVES: '2',
    BENCH_LINES: '200',
  };
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'bench.mjs'), '--no-build'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), 150_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
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
  const markdown = await readFile(path.join(out, 'RESULTS.md'), 'utf8');
  expect(markdown).toContain(`- Node.js: ${process.version}`);
  expect(markdown).toMatch(new RegExp(`- Machine: .+, ${report.machine.cores} cores`));
  for (const bench of report.benches) expect(markdown).toContain(`## ${bench.name}`);
  // The committed results are left as they are.
  expect((await stat(path.join(root, 'bench', 'results.json'))).mtimeMs).toBe(committed.mtimeMs);
});
