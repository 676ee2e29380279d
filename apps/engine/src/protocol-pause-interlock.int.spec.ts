// A run that paused itself keeps its protocol's message while the hardware goes away and comes back (a USB
// hiccup, a crashed hardware service, every process SIGKILLed and started again): the interlock blocks it beside
// the pause, and when it clears the run is paused by its protocol as before, not "reconnected: check the machine".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll } from '@labrun/testkit';

describe('a protocol pause while the hardware goes away', () => {
  afterAll(stopAll);

  it('keeps its message and since through a hardware SIGKILL and restart, and through a restart of every process', async () => {
    const broker = await startBroker();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-pause-hw-'));
    const engineEnv = { MQTT_URL: broker.url, ENGINE_ID: 'e-label', DEVICE_ID: 'sim-label', LABRUN_DATA_DIR: dataDir };
    const hardwareEnv = { MQTT_URL: broker.url, DEVICE_ID: 'sim-label' };
    let engine = await startService('engine', engineEnv);
    let hardware = await startService('hardware', hardwareEnv);
    const client = await connectTestClient(broker.url);
    await client.subscribe('run/label/status');
    const statusAfter = (mark: number, predicate: (s: RunStatusDocument) => boolean) =>
      client.waitFor('run/label/status', (m) => m.text !== '' && client.received.indexOf(m) >= mark && predicate(m.json()), 20_000).then((m) => m.json() as RunStatusDocument);

    await client.publish('run/label/create', {
      protocol: { schemaVersion: 1, metadata: { name: 'label' }, commands: [{ type: 'pause', params: { message: 'Label the tubes first' } }, { type: 'home' }] },
    });
    await client.publish('run/label/actions', 'play');
    const paused = (await statusAfter(0, (s) => s.status === 'paused')).pause;
    expect(paused).toMatchObject({ source: 'protocol', message: 'Label the tubes first' });

    // The hardware service dies: the run is blocked, and still says why it waits.
    let mark = client.received.length;
    await hardware.kill();
    // The protocol's pause still heads the reasons; the interlock stacks beside it.
    const blocked = await statusAfter(mark, (s) => s.status === 'blocked');
    expect(blocked).toMatchObject({
      pause: { ...paused, reasons: [paused!.reasons[0], { source: 'interlock', message: 'the hardware service for sim-label is offline' }] },
      interlock: { message: 'the hardware service for sim-label is offline' },
    });
    mark = client.received.length;
    hardware = await startService('hardware', hardwareEnv);
    expect(await statusAfter(mark, (s) => s.status === 'paused')).toMatchObject({ pause: paused, interlock: null });

    // Every process SIGKILLed, then started again.
    await Promise.all([engine.kill(), hardware.kill(), broker.kill()]);
    const again = await startBroker({ BROKER_PORT: new URL(broker.url).port });
    mark = client.received.length;
    engine = await startService('engine', engineEnv);
    hardware = await startService('hardware', hardwareEnv);
    const back = await statusAfter(mark, (s) => s.status === 'paused');
    expect(back.pause).toEqual(paused);
    await new Promise((r) => setTimeout(r, 1000));
    const last = client.messages('run/label/status').at(-1)!.json() as RunStatusDocument;
    expect(last).toMatchObject({ status: 'paused', pause: paused });

    await client.publish('run/label/actions', 'resume');
    await statusAfter(client.received.length, (s) => s.status === 'succeeded');
    await client.close();
    await again.stop();
  }, 120_000);
});
