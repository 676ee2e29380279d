// End to end: the built `labrun` command against the real broker, engine and hardware simulator processes,
// with separate `labrun` processes acting on a run the way two people at two terminals would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appEntry, commandExists, connectTestClient, freePort, requirement, startBroker, startProcess, startService, stopAll, type ServiceProcess, type TestClient } from '@labrun/testkit';

const hasScript = requirement(commandExists('script'), 'the script command (util-linux), to give labrun a terminal', 'install it with `apt-get install -y bsdutils`');

/** labrun on a pseudo-terminal (`script`), so both its stdin and stdout are a TTY, as for a person at a keyboard. */
function labrunOnTerminal(url: string, cols: number, args: string[]) {
  const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
  const command = `stty cols ${cols}; ${[process.execPath, appEntry('cli'), ...args].map(quote).join(' ')}`;
  const terminal: ChildProcess = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, MQTT_URL: url, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let screen = '';
  terminal.stdout!.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  terminal.stderr!.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  return {
    /** Everything it has shown so far. */
    screen: () => screen,
    /** Keys pressed at the terminal. */
    type: (keys: string) => terminal.stdin!.write(keys),
    exited: new Promise<number | null>((resolve) => terminal.on('exit', (code) => resolve(code))),
    async waitFor(pattern: RegExp) {
      const deadline = Date.now() + 15_000;
      while (!pattern.test(screen)) {
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}:\n${screen}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: () => {
      if (terminal.exitCode === null) process.kill(-terminal.pid!, 'SIGKILL');
    },
  };
}

describe('the labrun command, with the real services', () => {
  let url: string;
  let dir: string;

  /** A `labrun` process; its output is stdout and stderr together. */
  const labrun = (...args: string[]) => startProcess(`labrun ${args[0] ?? ''}`, appEntry('cli'), { MQTT_URL: url }, args);
  const newRunId = () => `cli-${randomUUID().slice(0, 8)}`;
  const protocolFile = async (commands: unknown[]) => {
    const file = path.join(dir, `${randomUUID().slice(0, 8)}.json`);
    await writeFile(file, JSON.stringify({ schemaVersion: 1, metadata: { name: 'cli check' }, commands }));
    return file;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-cli-it-'));
    url = (await startBroker()).url;
    await startService('hardware', { MQTT_URL: url, DEVICE_ID: 'cli-sim-1' });
    await startService('engine', { MQTT_URL: url, ENGINE_ID: 'cli-engine-1', DEVICE_ID: 'cli-sim-1', LABRUN_DATA_DIR: path.join(dir, 'engine') });
  });

  afterAll(async () => {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  /** A TypeScript protocol in a folder of its own, outside this repository: @labrun/protocol is not installed there. */
  const tsProtocolFile = async (name: string, body: string) => {
    const file = path.join(dir, `${randomUUID().slice(0, 8)}.ts`);
    await writeFile(file, `import { defineProtocol } from '@labrun/protocol';\n\nexport default defineProtocol({ name: ${JSON.stringify(name)} }, async (ctx) => {\n${body}\n});\n`);
    return file;
  };

  it('runs a protocol that pauses itself, resumed from another labrun process, and exits 0', async () => {
    const runId = newRunId();
    const file = await protocolFile([
      { type: 'home' },
      { type: 'move', params: { x: 4, y: 3, feed: 6000 } },
      { type: 'pause', params: { message: 'Check the samples' } },
      { type: 'comment', params: { message: 'Done' } },
    ]);
    const run = labrun('run', file, '--id', runId);
    await run.waitFor(/paused \(source: protocol\): Check the samples/);
    expect(run.output()).toContain(`run ${runId}: "cli check", 4 commands on device cli-sim-1`);
    expect(run.output()).toContain(`${runId}  paused  2/4  #3 pause "Check the samples"`);
    await run.waitFor(new RegExp(`resume it with: labrun resume ${runId}`));

    const resume = labrun('resume', runId, '--by', 'integration test');
    expect(await resume.exited()).toBe(0);
    expect(resume.output()).toBe(`resume accepted on run ${runId}\n`);

    expect(await run.exited()).toBe(0);
    expect(run.output()).toContain('resume accepted from integration test');
    expect(run.output()).toMatch(new RegExp(`${runId}  succeeded  4/4\\n$`));

    const status = labrun('status', runId, '--json');
    expect(await status.exited()).toBe(0);
    expect(JSON.parse(status.output())).toMatchObject({ runId, status: 'succeeded', progress: { completed: 4, total: 4 } });
    const ls = labrun('ls');
    expect(await ls.exited()).toBe(0);
    expect(ls.output()).toMatch(new RegExp(`${runId}\\s+succeeded\\s+4/4\\s+cli-sim-1`));
  });

  it('exits 1 with the engine’s reason when resuming a run that is running; a stopped run exits 2', async () => {
    const runId = newRunId();
    const run = labrun('run', await protocolFile([{ type: 'delay', params: { seconds: 30, message: 'Incubate' } }]), '--id', runId);
    await run.waitFor(/running {2}0\/1 {2}#1 delay 30 s "Incubate"/);

    const resume = labrun('resume', runId);
    expect(await resume.exited()).toBe(1);
    expect(resume.output()).toBe(`labrun: cannot resume run ${runId}: it is running, not paused\n`);

    const stop = labrun('stop', runId);
    expect(await stop.exited()).toBe(0);
    expect(await run.exited()).toBe(2);
    expect(run.output()).toMatch(new RegExp(`${runId}  stopped  0/1`));
  });

  it('exits 1 for an action or a status of a run that does not exist', async () => {
    const pause = labrun('pause', 'no-such-run');
    expect(await pause.exited()).toBe(1);
    expect(pause.output()).toContain('cannot pause run no-such-run: there is no such run');
    const status = labrun('status', 'no-such-run');
    expect(await status.exited()).toBe(1);
    expect(status.output()).toBe(`labrun: no run no-such-run on ${url}\n`);
  });

  it('exits 4 with a readable message when the broker cannot be reached', async () => {
    const port = await freePort();

    const run = labrun('run', await protocolFile([{ type: 'home' }]), '--url', `mqtt://127.0.0.1:${port}`);
    expect(await run.exited()).toBe(4);
    expect(run.output()).toBe(`labrun: cannot reach the MQTT broker at mqtt://127.0.0.1:${port}: connection refused. Is it running? Choose another with --url or MQTT_URL.\n`);
  });

  it('exits 3 with zod’s message for a protocol file that is not a valid protocol', async () => {
    const file = await protocolFile([{ type: 'home' }, { type: 'move', params: { feed: 100 } }]);
    const run = labrun('run', file);
    expect(await run.exited()).toBe(3);
    expect(run.output()).toBe(`labrun: ${file} is not a protocol labrun can run:\n✖ move needs at least one of x, y, z, or a well to go to ("to": "plate1/A1")\n  → at commands[1].params\n`);
  });

  it('runs a TypeScript protocol that pauses itself, resumed by a separate labrun resume', async () => {
    const runId = newRunId();
    const file = await tsProtocolFile('ts pause', "  await ctx.home();\n  await ctx.pause('I am paused now');\n  await ctx.comment('after the pause');");
    const run = labrun('run', file, '--id', runId);
    await run.waitFor(/paused \(source: protocol\): I am paused now/);
    expect(run.output()).toContain(`run ${runId}: "ts pause", 3 commands on device cli-sim-1`);
    await run.waitFor(new RegExp(`resume it with: labrun resume ${runId}`));

    const resume = labrun('resume', runId, '--by', 'bench-2');
    expect(await resume.exited()).toBe(0);
    expect(resume.output()).toBe(`resume accepted on run ${runId}\n`);
    expect(await run.exited()).toBe(0);
    expect(run.output()).toContain('resume accepted from bench-2');
    expect(run.output()).toMatch(new RegExp(`${runId}  succeeded  3/3\\n$`));
  });

  it.skipIf(!hasScript)('on a terminal, shows a live progress line, prints the pause and resumes on Enter', async () => {
    const runId = newRunId();
    const file = await tsProtocolFile('at a terminal', "  await ctx.home();\n  await ctx.pause('Press Enter, please');\n  await ctx.comment('Done');");
    const { screen, type, exited, waitFor, kill } = labrunOnTerminal(url, 160, ['run', file, '--id', runId]);
    try {
      await waitFor(new RegExp(`press Enter to resume \\(or run: labrun resume ${runId}\\)`));
      expect(screen()).toContain('  ✓ #1 home');
      expect(screen()).toContain('  ❚❚ paused (source: protocol): Press Enter, please');
      // The live line, redrawn in place: a bar, the progress, the pause timer and the command.
      expect(screen()).toMatch(/\r\x1b\[2K❚❚ {2}\[█+░+\] {2}1\/3 {2}paused \d\d:\d\d {2}#2 pause "Press Enter, please"/);
      type('\r');
      expect(await exited).toBe(0);
      expect(screen()).toMatch(/resume accepted from \S+/);
      expect(screen()).toMatch(new RegExp(`✓ ${runId} succeeded {2}3/3 in \\d\\d:\\d\\d`));
    } finally {
      kill();
    }
  });

  it('follows a run with status --watch and exits as the run ended: 2 when stopped', async () => {
    const runId = newRunId();
    const run = labrun('run', await protocolFile([{ type: 'delay', params: { seconds: 30, message: 'Incubate' } }]), '--id', runId);
    await run.waitFor(/running {2}0\/1/);
    const watch = labrun('status', runId, '--watch');
    await watch.waitFor(new RegExp(`${runId}  running  0/1  #1 delay`));
    expect(await labrun('stop', runId, '--by', 'ana').exited()).toBe(0);
    expect(await watch.exited()).toBe(2);
    expect(await run.exited()).toBe(2);
    expect(watch.output()).toMatch(new RegExp(`${runId}  stopped  0/1\n$`));
  });

  it('exits 5 when the broker is there but no engine answers', async () => {
    const lonely = await startBroker();
    const resume = startProcess('labrun resume', appEntry('cli'), { MQTT_URL: lonely.url }, ['resume', 'r-anything']);
    expect(await resume.exited()).toBe(5);
    expect(resume.output()).toBe(`labrun: no engine answered resume on run r-anything within 5 s: is an engine connected to ${lonely.url}?\n`);
    await lonely.stop();
  });

  it('ends quietly with 141, and no stack trace, when whoever reads its output stops (labrun run … | head -2)', async () => {
    const file = await protocolFile([
      { type: 'delay', params: { seconds: 0.5 } },
      { type: 'comment', params: { message: 'one' } },
      { type: 'delay', params: { seconds: 0.5 } },
    ]);
    const child = spawn(process.execPath, [appEntry('cli'), 'run', file, '--id', newRunId()], { env: { ...process.env, MQTT_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Like `head -2`: read two lines, then close the pipe.
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.split('\n').length > 2) {
          child.stdout!.destroy();
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(141);
  });

  it('documents the exit codes in --help', async () => {
    const help = labrun('--help');
    expect(await help.exited()).toBe(0);
    expect(help.output()).toContain('labrun run <protocol.json|protocol.ts>');
    expect(help.output()).toMatch(/Exit codes[^\n]*\n {2}0 {4}the run succeeded[\s\S]*\n {2}2 {4}the run was stopped[\s\S]*\n {2}5 {4}no engine answered within 5 s/);
  });
});

describe('the labrun command recovering a failed command, on a simulator that starts in Alarm', () => {
  // A hardware service of its own for each test: its built-in simulator starts locked in Alarm (homing on), so the
  // protocol's first move fails into awaiting-recovery until someone homes the machine.
  let url: string;
  let dir: string;
  let hardware: ServiceProcess | undefined;
  let watcher: TestClient;
  const deviceId = 'cli-rec-sim';
  const labrun = (...args: string[]) => startProcess(`labrun ${args[0] ?? ''}`, appEntry('cli'), { MQTT_URL: url }, args);
  const newRunId = () => `cli-rec-${randomUUID().slice(0, 8)}`;
  const protocolFile = async () => {
    const file = path.join(dir, `${randomUUID().slice(0, 8)}.json`);
    const commands = [
      { type: 'move', params: { x: 10, y: 10, feed: 6000 } },
      { type: 'comment', params: { message: 'Done' } },
    ];
    await writeFile(file, JSON.stringify({ schemaVersion: 1, metadata: { name: 'unhomed move' }, commands }));
    return file;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-cli-recovery-'));
    url = (await startBroker()).url;
    watcher = await connectTestClient(url);
    await watcher.subscribe(`hw/${deviceId}/state`);
    await startService('engine', { MQTT_URL: url, ENGINE_ID: 'cli-rec-engine', DEVICE_ID: deviceId, LABRUN_DATA_DIR: path.join(dir, 'engine') });
  });

  beforeEach(async () => {
    // A fresh simulator: in Alarm again, whatever the previous test did to it; its controller connected (a state
    // published after this start) before the protocol asks for a move.
    await hardware?.stop();
    const mark = watcher.received.length;
    hardware = await startService('hardware', { MQTT_URL: url, DEVICE_ID: deviceId });
    await watcher.waitFor(`hw/${deviceId}/state`, (m) => watcher.received.indexOf(m) >= mark && m.text !== '' && m.json().connected === true, 20_000);
  });

  afterAll(async () => {
    await watcher?.close();
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('says what failed and how to recover; status shows it; home then retry from other labrun processes finish the run', async () => {
    const runId = newRunId();
    const run = labrun('run', await protocolFile(), '--id', runId);
    await run.waitFor(new RegExp(`recover it with: labrun retry\\|skip\\|home(\\|unlock)? ${runId}`));
    expect(run.output()).toContain(`${runId}  awaiting-recovery  0/2  #1 move x=10 y=10 F6000`);
    expect(run.output()).toMatch(/\n {2}failed: #1 move x=10 y=10 F6000, attempt 1 \([a-z-]+\): .*home/i);

    const status = labrun('status', runId);
    expect(await status.exited()).toBe(0);
    // The failed command described in full from the run's commands document, and what may be done now.
    expect(status.output()).toMatch(/ {2}failed: #1 move x=10 y=10 F6000, attempt 1 \([a-z-]+\): /);
    expect(status.output()).toMatch(/\n {2}allowed actions: stop, retry, skip, home, unlock\n$/);

    const resume = labrun('resume', runId);
    expect(await resume.exited()).toBe(1);
    expect(resume.output()).toMatch(new RegExp(`^labrun: cannot resume run ${runId}: `));

    const home = labrun('home', runId, '--by', 'ana');
    expect(await home.exited()).toBe(0);
    expect(home.output()).toBe(`home accepted on run ${runId}\n`);
    await run.waitFor(/ {2}home done/);

    const retry = labrun('retry', runId, '--by', 'ana');
    expect(await retry.exited()).toBe(0);
    expect(await run.exited()).toBe(0);
    expect(run.output()).toContain('home accepted from ana');
    expect(run.output()).toContain('retry accepted from ana');
    expect(run.output()).toMatch(new RegExp(`${runId}  succeeded  2/2\\n$`));
  });

  it('skip marks the failed move skipped and the run goes on to succeed', async () => {
    const runId = newRunId();
    const run = labrun('run', await protocolFile(), '--id', runId);
    await run.waitFor(/recover it with: /);
    const skip = labrun('skip', runId, '--by', 'ana', '--message', 'moved it by hand');
    expect(await skip.exited()).toBe(0);
    expect(await run.exited()).toBe(0);
    expect(run.output()).toContain('skip accepted from ana: moved it by hand');
    const again = labrun('skip', runId);
    expect(await again.exited()).toBe(1);
    expect(again.output()).toMatch(new RegExp(`^labrun: cannot skip run ${runId}: `));
  });

  it.skipIf(!hasScript)('on a terminal, offers exactly the allowed keys; h homes, r retries', async () => {
    const runId = newRunId();
    const { screen, type, exited, waitFor, kill } = labrunOnTerminal(url, 200, ['run', await protocolFile(), '--id', runId]);
    try {
      await waitFor(new RegExp(`press r to retry, s to skip, h to home(, u to unlock)? \\(or run: labrun retry\\|skip\\|home(\\|unlock)? ${runId}\\)`));
      expect(screen()).toMatch(/ {2}✗ failed: #1 move x=10 y=10 F6000, attempt 1/);
      expect(screen()).toMatch(/⚠ {2}\[░+\] {2}0\/2 {2}awaiting-recovery \d\d:\d\d {2}#1 move x=10 y=10 F6000/);
      // A key whose action is not allowed does nothing: Enter (resume) is refused while a command awaits recovery.
      type('\r');
      type('h');
      await waitFor(/ {4}home done/);
      type('r');
      expect(await exited).toBe(0);
      expect(screen()).toMatch(/home accepted from \S+/);
      expect(screen()).toMatch(/retry accepted from \S+/);
      expect(screen()).not.toMatch(/cannot resume/);
      expect(screen()).toMatch(new RegExp(`✓ ${runId} succeeded {2}2/2 in \\d\\d:\\d\\d`));
    } finally {
      kill();
    }
  });
});
