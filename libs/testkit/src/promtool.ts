// `promtool check metrics` (Prometheus' own linter of the text exposition format) on what a /metrics endpoint
// answered: the tests hold labrun's metrics to it. promtool comes with the Debian package `prometheus`.
import { spawn } from 'node:child_process';
import { commandExists, requirement } from './external.js';

/** Whether promtool is installed: in CI it must be (a failure otherwise); elsewhere a printed skip. */
export const promtoolAvailable = (): boolean => requirement(commandExists('promtool'), 'promtool', 'install it with `apt-get install prometheus` (or a Prometheus release tarball)');

/** Pipe `exposition` to `promtool check metrics`: its exit code and every line it printed (problems; none when clean). */
export function promtoolCheck(exposition: string): Promise<{ code: number | null; problems: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, problems: output.split('\n').filter((line) => line.trim() !== '') }));
    child.stdin.end(exposition);
  });
}

/** The value of one series in a scrape (its name and labels as prom-client writes them, e.g. `x{a="b"}`), or undefined. */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
