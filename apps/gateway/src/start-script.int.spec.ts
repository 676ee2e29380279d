// `npm start` (scripts/start.mjs) as a user runs it: the whole system on free ports. It tells the labrun command
// where its broker is, and a service that crashes is started again instead of taking everything down.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Changes, repoRoot } from '@labrun/testkit';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Started {
  proc: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<RegExpMatchArray>;
}

let started: Started | null = null;

async function npmStart(env: Record<string, string>): Promise<Started> {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs'), '--no-build'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const changes = new Changes();
  for (const stream of [proc.stdout!, proc.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      changes.notify();
    });
  }
  const waitFor = (pattern: RegExp, from = 0, timeoutMs = 30_000) =>
    changes.until(
      () => {
        const match = output.slice(from).match(pattern);
        if (match) return match;
        if (proc.exitCode !== null) throw new Error(`npm start exited (${proc.exitCode}) before printing ${pattern}:\n${output}`);
        return undefined;
      },
      timeoutMs,
      () => `npm start did not print ${pattern} within ${timeoutMs} ms:\n${output}`,
    );
  proc.on('exit', () => changes.notify());
  started = { proc, output: () => output, waitFor };
  return started;
}

describe('npm start', () => {
  afterEach(async () => {
    if (!started) return;
    const { proc } = started;
    started = null;
    if (proc.exitCode === null) {
      proc.kill('SIGINT');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('tells the labrun command where the broker is, and starts a crashed service again without stopping the rest', async () => {
    const [port, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-start-'));
    const system = await npmStart({ BROKER_PORT: String(port), BROKER_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), LABRUN_DATA_DIR: dataDir, DEVICE_ID: 'start-sim' });
    await system.waitFor(/labrun is running/, 0, 60_000);
    await system.waitFor(new RegExp(`npx labrun run examples/serial-dilution\\.json +# the labrun command finds this broker \\(elsewhere: MQTT_URL=mqtt://127\\.0\\.0\\.1:${port}\\)`));

    // The labrun command, with no MQTT_URL, reaches this broker (not whatever listens on 1883) and runs a protocol.
    const protocolFile = path.join(dataDir, 'hello.json');
    fs.writeFileSync(protocolFile, JSON.stringify({ schemaVersion: 1, metadata: { name: 'hello' }, commands: [{ type: 'comment', params: { message: 'hello' } }] }));
    const { MQTT_URL: _, ...withoutUrl } = process.env;
    const cli = spawnSync(process.execPath, [path.join(repoRoot, 'apps/cli/bin/labrun.js'), 'run', protocolFile], { cwd: repoRoot, env: withoutUrl, encoding: 'utf8', timeout: 30_000 });
    expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(0);
    expect(cli.stdout).toContain('succeeded');

    const [, pid] = await system.waitFor(/hardware started \(pid (\d+)\)/);
    const mark = system.output().length;
    process.kill(Number(pid), 'SIGKILL');
    await system.waitFor(/hardware stopped unexpectedly \(SIGKILL\); starting it again in 1 s \(restart 1 of at most 5 a minute\)/, mark);
    await system.waitFor(/hardware started \(pid \d+\)/, mark);
    await system.waitFor(/\[hardware\] .* ready/, mark);
    expect(system.output().slice(mark)).not.toMatch(/stopping everything|\[labrun\] stopping/);
    expect(system.proc.exitCode).toBeNull();

    // Ctrl-C still stops everything, cleanly.
    system.proc.kill('SIGINT');
    const code = await new Promise((r) => system.proc.once('exit', r));
    expect(code).toBe(0);
  }, 120_000);
});
