// A full disk under the journal: the engine on a real 256 KiB tmpfs. Nothing may be acknowledged or published as
// done unless it is on disk; the engine says it cannot write, refuses what would change a run, and goes on by
// itself once there is room again. What it did acknowledge survives a SIGKILL.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineStatus, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, fillDisk, mountTmpfs, startBroker, startService, stopAll, unmount, type ServiceProcess, type TestClient } from '@labrun/testkit';

const protocol = {
  schemaVersion: 1,
  metadata: { name: 'disk full' },
  commands: [
    { type: 'pause', params: { message: 'Check the samples' } },
    { type: 'comment', params: { message: 'done' } },
  ],
};

describe('an engine whose journal is on a full disk', () => {
  let disk: string | null = null;
  beforeAll(() => {
    disk = mountTmpfs('256k');
  });
  afterAll(async () => {
    await stopAll();
    if (disk) unmount(disk);
  });

  it('journals on a 256 KiB disk, refuses with journal-unavailable once it is full, recovers by itself, and loses nothing acknowledged', async (context) => {
    if (!disk) return context.skip();
    const broker = await startBroker();
    const env = { MQTT_URL: broker.url, ENGINE_ID: 'e-disk', LABRUN_DATA_DIR: disk };
    let engine: ServiceProcess = await startService('engine', env);
    const client: TestClient = await connectTestClient(broker.url);
    await client.subscribe(['run/+/status', 'run/+/events', 'engine/e-disk/status']);
    const status = (runId: string) =>
      client
        .messages(`run/${runId}/status`)
        .filter((m) => m.text !== '')
        .at(-1)
        ?.json() as RunStatusDocument | undefined;
    const engineStatus = () => client.messages('engine/e-disk/status').at(-1)?.json() as EngineStatus | undefined;

    // The small disk takes the journal at all (a 1 MiB preallocation never fitted on it).
    await client.publish('run/first/create', { protocol });
    await client.waitFor('run/first/status', (m) => m.text !== '' && m.json().status === 'idle');
    await client.publish('run/first/actions', { type: 'play', id: 'play-first' });
    await client.waitFor('run/first/status', (m) => m.text !== '' && m.json().status === 'paused');

    // Now fill it. Creates go on until one meets the full disk: the engine then says it cannot write.
    const filler = fillDisk(disk);
    let held: string | null = null;
    for (let i = 1; i <= 60 && !held; i++) {
      const runId = `full-${i}`;
      await client.publish(`run/${runId}/create`, { protocol });
      const answered = await Promise.race([
        client.waitFor(`run/${runId}/status`, (m) => m.text !== '', 3000).then(() => 'status' as const),
        client.waitFor('engine/e-disk/status', (m) => m.json().journal.writable === false, 3000).then(() => 'unwritable' as const),
      ]).catch(() => 'nothing' as const);
      if (answered === 'unwritable') held = runId;
      expect(answered, `create ${runId}`).not.toBe('nothing');
    }
    expect(held, 'a create met the full disk').not.toBeNull();
    expect(engineStatus()).toMatchObject({ engineId: 'e-disk', journal: { writable: false, error: expect.stringContaining('ENOSPC') } });
    // The create that met the full disk is not acknowledged: no status says it exists.
    await new Promise((r) => setTimeout(r, 300));
    expect(status(held!)).toBeUndefined();

    // Meanwhile creates and actions are refused, with a reason the sender can read; the paused run is unchanged.
    await client.publish('run/refused/create', { protocol });
    const refusedCreate = await client.waitFor('run/refused/events', (m) => m.json().type === 'run.rejected');
    expect(refusedCreate.json()).toMatchObject({ seq: 0, code: 'journal-unavailable', message: expect.stringMatching(/^cannot create run refused: the engine cannot write its journal \(ENOSPC/) });
    await client.publish('run/first/actions', { type: 'resume', id: 'resume-while-full' });
    const refusedAction = await client.waitFor('run/first/events', (m) => m.json().actionId === 'resume-while-full');
    expect(refusedAction.json()).toMatchObject({ type: 'action.rejected', seq: 0, code: 'journal-unavailable' });
    expect(status('first')?.status).toBe('paused');
    expect(engine.output()).toMatch(/cannot write the journal/);

    // Room again: the engine takes writes by itself, publishes what it held, and takes creates again.
    fs.rmSync(filler);
    const unwritable = client.received.findIndex((m) => m.topic === 'engine/e-disk/status' && m.json().journal.writable === false);
    await client.waitFor('engine/e-disk/status', (m) => m.json().journal.writable === true && client.received.indexOf(m) > unwritable, 10_000);
    await client.waitFor(`run/${held}/status`, (m) => m.text !== '' && m.json().status === 'idle');
    await client.publish('run/after/create', { protocol });
    await client.waitFor('run/after/status', (m) => m.text !== '' && m.json().status === 'idle');
    await client.publish('run/first/actions', { type: 'resume', id: 'resume-after' });
    await client.waitFor('run/first/status', (m) => m.text !== '' && m.json().status === 'succeeded');

    // Every run whose status was published is still there after a SIGKILL, as it was.
    const acknowledged = new Map<string, RunStatusDocument>();
    for (const m of client.messages('run/+/status')) if (m.text !== '') acknowledged.set(m.json().runId, m.json());
    await engine.kill();
    const mark = client.received.length;
    engine = await startService('engine', env);
    for (const [runId, before] of acknowledged) {
      const after = await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && client.received.indexOf(m) >= mark);
      expect(after.json(), runId).toMatchObject({ status: before.status, seq: before.seq, progress: before.progress });
    }
    expect(acknowledged.size).toBeGreaterThan(3);
    await client.close();
    await engine.stop();
    await broker.stop();
  }, 120_000);
});
