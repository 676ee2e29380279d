// The labrun-grbl-sim command as a real process: ready line, the door on stdin, quit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { commandExists, requirement, startProcess, stopAll } from '@labrun/testkit';
import { openSerialDevice } from './terminal.js';

const hasSocat = requirement(commandExists('socat'), 'socat', 'install it, e.g. `apt-get install socat`');
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/simulator/cli.js');

describe.skipIf(!hasSocat)('labrun-grbl-sim', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grbl-sim-cli-'));
  afterEach(async () => {
    await stopAll();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves the simulator on the link, takes "door open" on stdin, and quits cleanly', async () => {
    expect(fs.existsSync(cli), `${cli} is missing: build first (npx nx run @labrun/grbl:build)`).toBe(true);
    const link = path.join(dir, 'ttyGRBL');
    const sim = startProcess('labrun-grbl-sim', cli, {}, ['--link', link, '--baud', '115200']);
    const [, ready] = await sim.waitFor(/^ready link=(\S+)$/m);
    expect(ready).toBe(link);

    const device = openSerialDevice(link);
    try {
      await device.waitFor(/unlock\]\r\n/);
      device.send('$X\n');
      await device.waitFor(/\[MSG:Caution: Unlocked\]\r\nok\r\n/);
      device.send('?');
      await device.waitFor(/<Idle\|/);

      sim.proc.stdin!.write('door open\n');
      await sim.waitFor(/^door=open$/m);
      await device.waitFor(/\[MSG:Check Door\]\r\n/);
      device.send('?');
      const [report] = await device.waitFor(/<Door:1\|[^>]*>/);
      expect(report).toContain('|Pn:D');
    } finally {
      device.close();
    }

    sim.proc.stdin!.write('quit\n');
    expect(await sim.exited()).toBe(0);
    expect(fs.existsSync(link)).toBe(false);
  });

  it('stops on SIGTERM and removes the link', async () => {
    const link = path.join(dir, 'ttyTERM');
    const sim = startProcess('labrun-grbl-sim', cli, {}, ['--link', link]);
    await sim.waitFor(/^ready link=/m);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    sim.proc.kill('SIGTERM');
    expect(await sim.exited()).toBe(0);
    expect(fs.existsSync(link)).toBe(false);
  });

  it('refuses to start without --link', async () => {
    const sim = startProcess('labrun-grbl-sim', cli, {}, []);
    expect(await sim.exited()).toBe(2);
    expect(sim.output()).toContain('--link is required');
  });
});
