// A raw G-code block is not sent again by itself after an engine restart: the broker, the hardware service on its
// simulator and an engine that is killed (SIGKILL) while a slow relative block (G91) runs. The block goes on in the
// hardware service meanwhile; the restarted engine has the run wait in recovery (code interrupted), and skip goes on
// — the machine has moved up once, not twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll } from '@labrun/testkit';

describe('an engine killed during a G-code block', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-gcode-restart-'));
  afterAll(async () => {
    await stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('comes back awaiting recovery with code interrupted instead of sending the block again; skip finishes the run, the block done once', async () => {
    const device = 'gcode-restart-sim';
    const broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: device });
    const engineEnv = { MQTT_URL: broker.url, ENGINE_ID: 'e-gcode-restart', DEVICE_ID: device, LABRUN_DATA_DIR: dataDir };
    const engine = await startService('engine', engineEnv);
    const client = await connectTestClient(broker.url);
    await client.subscribe(['run/g/status', `hw/${device}/state`]);
    await client.waitFor(`hw/${device}/state`, (m) => m.text !== '' && m.json().connected === true, 20_000);
    const status = async (predicate: (s: RunStatusDocument) => boolean, since = 0) =>
      (await client.waitFor('run/g/status', (m) => m.text !== '' && client.received.indexOf(m) >= since && predicate(m.json()), 30_000)).json() as RunStatusDocument;

    // 20 mm up at 600 mm/min: two seconds of motion, relative.
    const commands = [{ type: 'home' }, { type: 'gcode', params: { lines: ['G91', 'G1 Z20 F600', 'G90'] } }, { type: 'comment', params: { message: 'done' } }];
    await client.publish('run/g/create', { protocol: { schemaVersion: 1, metadata: { name: 'relative block' }, commands } });
    await client.publish('run/g/actions', 'play');
    await status((s) => s.status === 'running' && s.current?.type === 'gcode');
    await engine.kill();

    const mark = client.received.length;
    await startService('engine', engineEnv);
    const waiting = await status((s) => s.status === 'awaiting-recovery', mark);
    expect(waiting).toMatchObject({
      current: { index: 1, type: 'gcode' },
      error: { code: 'interrupted', commandIndex: 1, message: expect.stringMatching(/^the engine restarted during gcode \(command 2 of 3\): it may have been carried out in part or in full/) },
    });
    expect(waiting.allowedActions).toEqual(expect.arrayContaining(['retry', 'skip', 'stop']));
    expect(waiting.allowedActions).not.toContain('resume');

    // The block the first engine sent finishes in the hardware service: the machine is 20 mm up, and stays there.
    await client.waitFor(`hw/${device}/state`, (m) => m.text !== '' && m.json().machine === 'Idle' && m.json().position?.z === 20, 15_000);
    await client.publish('run/g/actions', { type: 'skip', by: 'ana' });
    await status((s) => s.status === 'succeeded', mark);
    await new Promise((resolve) => setTimeout(resolve, 500)); // time for a second block to show, had one been sent
    const last = client.messages(`hw/${device}/state`).at(-1)!.json();
    expect(last.position.z).toBe(20);
    await client.close();
  });
});
