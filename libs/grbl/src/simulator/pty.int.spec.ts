// The simulator on a real pseudo-terminal (socat), opened by path the way a serial port is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandExists, requirement } from '@labrun/testkit';
import { GrblSimulator, exposeOnPty, type PtyLink } from './index.js';
import { openSerialDevice } from './terminal.js';

const hasSocat = requirement(commandExists('socat'), 'socat', 'install it, e.g. `apt-get install socat`');

describe.skipIf(!hasSocat)('exposeOnPty', () => {
  let sim: GrblSimulator | undefined;
  let link: PtyLink | undefined;
  afterEach(async () => {
    await link?.close();
    sim?.close();
  });

  it('puts the controller on a pty at the given path, at 115200 baud', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grbl-sim-'));
    const linkPath = path.join(dir, 'ttyGRBL');
    sim = new GrblSimulator({ baudRate: 115200 });
    link = await exposeOnPty(sim, linkPath);
    expect(link.path).toBe(linkPath);
    expect(fs.lstatSync(linkPath).isSymbolicLink()).toBe(true);

    const device = openSerialDevice(linkPath);
    try {
      // The banner the controller printed at power-up waits in the pty for the first reader.
      await device.waitFor(/\[MSG:'\$H'\|'\$X' to unlock\]\r\n/);
      device.send('?');
      await device.waitFor(/<Alarm\|MPos:0\.000,0\.000,0\.000\|Bf:15,128\|FS:0,0\|WCO:0\.000,0\.000,0\.000>\r\n/);
      device.send('$I\n');
      await device.waitFor(/\[VER:1\.1h\.20190830:\]\r\n\[OPT:V\+,15,128\]\r\nok\r\n/);
    } finally {
      device.close();
    }

    await link.close();
    link = undefined;
    expect(fs.existsSync(linkPath)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says why when socat cannot create the link', async () => {
    sim = new GrblSimulator({ baudRate: 0 });
    await expect(exposeOnPty(sim, '/nonexistent-dir/ttyGRBL')).rejects.toThrow(/socat exited .*before creating the pty \/nonexistent-dir\/ttyGRBL/s);
  });
});
