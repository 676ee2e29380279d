// Start labrun services as real child processes (their built `dist/main.js`), wait until they say they are
// ready, and always stop them: every handle is registered and `stopAll()` ends whatever is still running.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { Changes } from './changes.js';
import os from 'node:os';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The checkout whose builds are started: this one, or the one LABRUN_BUILD_ROOT names. The benchmark's before/after
 * comparison (scripts/bench-compare.mjs) runs one checkout's bench scripts against another revision's build that way.
 */
export function buildRoot(): string {
  const root = process.env.LABRUN_BUILD_ROOT;
  return root ? path.resolve(root) : repoRoot;
}

const missingBuild = (entry: string) => new Error(`${entry} is missing: build first (npx nx run-many -t build in ${buildRoot()})`);

export type AppName = 'broker' | 'engine' | 'hardware' | 'gateway' | 'cli';

export interface ServiceProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolve with the first match of `pattern` in the output (already printed or still to come). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolve with the exit code once the process has exited. */
  exited(): Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

const running = new Set<ServiceProcess>();
/** Processes that exited without being stopped: a wait that times out names them (a broker that died, say). */
const unexpectedExits: string[] = [];

export function appEntry(app: AppName): string {
  const entry = path.join(buildRoot(), 'apps', app, 'dist', 'main.js');
  if (!fs.existsSync(entry)) throw missingBuild(entry);
  return entry;
}

/**
 * With LABRUN_CPU_PROF_DIR set, every process started here writes a V8 CPU profile there when it exits
 * (`node --cpu-prof`): how benchmarks are profiled (see bench/README.md).
 */
let profiled = 0;
function profileArgs(name: string): string[] {
  const dir = process.env.LABRUN_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`, `--cpu-prof-name=${name}-${Date.now()}-${++profiled}.cpuprofile`] : [];
}

export function startProcess(name: string, entry: string, env: Record<string, string | undefined>, args: string[] = []): ServiceProcess {
  const proc = spawn(process.execPath, [...profileArgs(name), entry, ...args], {
    env: { ...process.env, LOG_LEVEL: 'debug', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const changes = new Changes();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    changes.notify();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let exitedAlready = false;
  void exit.then((code) => {
    exitedAlready = true;
    if (running.has(handle)) unexpectedExits.push(`${name} exited by itself (code ${code}); its last output:\n${output.slice(-1500)}`);
    changes.notify();
  });

  const handle: ServiceProcess = {
    name,
    proc,
    output: () => output,
    waitFor(pattern, timeoutMs = 15_000) {
      return changes.until(
        () => {
          const match = output.match(pattern);
          if (match) return match;
          if (exitedAlready) throw new Error(`${name} exited before printing ${pattern}:\n${output}`);
          return undefined;
        },
        timeoutMs,
        () => [`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output}`, ...unexpectedExits.filter((e) => !e.startsWith(`${name} `))].join('\n\nMeanwhile, '),
      );
    },
    exited: () => exit,
    async stop(graceMs = 3000) {
      running.delete(handle);
      if (exitedAlready) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
    async kill() {
      running.delete(handle);
      if (exitedAlready) return;
      proc.kill('SIGKILL');
      await exit;
    },
  };
  running.add(handle);
  return handle;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

export interface BrokerProcess extends ServiceProcess {
  url: string;
  wsUrl: string;
}

/** The labrun broker on ephemeral ports (TCP and WebSocket). */
export async function startBroker(env: Record<string, string | undefined> = {}): Promise<BrokerProcess> {
  const proc = startProcess('broker', appEntry('broker'), { BROKER_HOST: '127.0.0.1', BROKER_PORT: '0', BROKER_WS_PORT: '0', ...env });
  const match = await proc.waitFor(/listening mqtt=(mqtt:\/\/\S+) ws=(ws:\/\/\S+)/);
  return Object.assign(proc, { url: match[1]!, wsUrl: match[2]! });
}

/** A service that connects to a broker and prints `ready` once it has subscribed and announced itself. */
export async function startService(app: 'engine' | 'hardware' | 'gateway', env: Record<string, string | undefined>): Promise<ServiceProcess> {
  // Each engine journals to a fresh directory unless the test names one (to restart an engine on its journal).
  const dataDir = app === 'engine' && !env.LABRUN_DATA_DIR ? { LABRUN_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-engine-')) } : {};
  const proc = startProcess(app, appEntry(app), { ...dataDir, ...env });
  // A node process starts in a second or two; on two cores busy with other suites (CI runs projects side by side)
  // several started at once have taken over 15 s.
  await proc.waitFor(/ ready( |$)/m, 30_000);
  return proc;
}

export interface GrblSimProcess extends ServiceProcess {
  /** The pseudo-terminal a serial driver opens (SERIAL_PATH). */
  link: string;
  /**
   * Send a control line to the simulator: `door open`, `door close`, or a fault — `limit x|y|z`, `reset`,
   * `power cycle`, `hang`, `error <N>` (libs/grbl/src/simulator/README.md). It acknowledges each on its output.
   */
  control(line: string): void;
}

/** The GRBL simulator as its own process, exposed on a pseudo-terminal at `link` (needs socat). */
export async function startGrblSim(link: string, args: string[] = []): Promise<GrblSimProcess> {
  const entry = path.join(buildRoot(), 'libs', 'grbl', 'dist', 'simulator', 'cli.js');
  if (!fs.existsSync(entry)) throw missingBuild(entry);
  const proc = startProcess('grbl-sim', entry, {}, ['--link', link, ...args]);
  await proc.waitFor(/ready link=/);
  return Object.assign(proc, { link, control: (line: string) => void proc.proc.stdin!.write(`${line}\n`) });
}
