// The labrun-grbl-sim command as a real process: ready line, the door and the injected faults on stdin, quit.
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

  it('takes faults on stdin: a garbled line, a tripped limit switch, a power cut, a hang; refuses what it does not know', async () => {
    const link = path.join(dir, 'ttyFAULT');
    const sim = startProcess('labrun-grbl-sim', cli, {}, ['--link', link]);
    await sim.waitFor(/^ready link=/m);
    const control = async (command: string, ack: RegExp) => {
      sim.proc.stdin!.write(`${command}\n`);
      await sim.waitFor(ack);
    };
    const device = openSerialDevice(link);
    try {
      await device.waitFor(/unlock\]\r\n/);
      device.send('$X\n');
      await device.waitFor(/Unlocked\]\r\nok\r\n/);
      await control('error 20', /^next-line=error:20$/m);
      device.send('G0 X1\n');
      await device.waitFor(/\r\nerror:20\r\n/);
      device.send('G1 X50 F3000\n');
      await device.waitFor(/error:20\r\nok\r\n/);
      await control('limit x', /^limit=x$/m);
      await device.waitFor(/ALARM:1\r\n/);
      await control('limit y', /^limit=y ignored \(hard limits off, homing, or in alarm\)$/m);
      await control('power cycle', /^power=cycled$/m);
      await device.waitFor(/Grbl 1\.1h \['\$' for help\]\r\n\[MSG:Check Limits\]\r\n/); // it stands on the switch still
      await control('hang', /^firmware=hung$/m);
      const before = device.text().length;
      device.send('?');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(device.text().length).toBe(before);
      await control('reset', /^reset=pressed$/m);
      sim.proc.stdin!.write('fly away\n');
      await sim.waitFor(/unknown command "fly away": expected "door open", "door close", "limit x\|y\|z", "reset", "power cycle", "hang", "error <N>", "probe z=<Z>", "probe off" or "quit"/);
    } finally {
      device.close();
    }
    sim.proc.stdin!.write('quit\n');
    expect(await sim.exited()).toBe(0);
  });

  it('takes the probe surface on stdin: G38.2 touches it, and touches nothing once it is off', async () => {
    const link = path.join(dir, 'ttyPROBE');
    const sim = startProcess('labrun-grbl-sim', cli, {}, ['--link', link]);
    await sim.waitFor(/^ready link=/m);
    const device = openSerialDevice(link);
    try {
      await device.waitFor(/unlock\]\r\n/);
      device.send('$H\nG0 Z-49\n');
      await device.waitFor(/^ok\r\nok\r\n/m);
      sim.proc.stdin!.write('probe z=-79\n');
      await sim.waitFor(/^probe-surface=z:-79$/m);
      device.send('G38.2 Z-99 F3000\n');
      await device.waitFor(/\[PRB:-299\.000,-299\.000,-79\.000:1\]\r\nok\r\n/);
      sim.proc.stdin!.write('probe off\n');
      await sim.waitFor(/^probe-surface=none$/m);
      device.send('G0 Z-49\nG38.2 Z-69 F3000\n');
      await device.waitFor(/ALARM:5\r\n\[PRB:-299\.000,-299\.000,-79\.000:0\]\r\nok\r\n/);
    } finally {
      device.close();
    }
    sim.proc.stdin!.write('quit\n');
    expect(await sim.exited()).toBe(0);
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
