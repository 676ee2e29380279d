// Power-loss recovery: kill the engine with SIGKILL at random points of a running protocol, restart it on the
// same journal, and check that nothing a subscriber saw was lost, nothing done is done again, and the run can
// be resumed to the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import { readJournal } from '@labrun/engine';
import { connectTestClient, startBroker, startService, stopAll, type ServiceProcess } from '@labrun/testkit';

const KILLS = 10;

// Moves, delays, comments and protocol pauses, so kills land in every kind of command.
const commands: unknown[] = [{ type: 'home' }];
for (let i = 1; i <= 12; i++) {
  commands.push({ type: 'move', params: { x: i * 2, y: i, feed: 3000 } });
  commands.push({ type: 'delay', params: { seconds: 0.15, message: `incubate ${i}` } });
  commands.push({ type: 'comment', params: { message: `step ${i}` } });
  if (i % 4 === 0) commands.push({ type: 'pause', params: { message: `check ${i}` } });
}

describe('an engine killed at random points', () => {
  afterAll(stopAll);

  it(`loses nothing over ${KILLS} SIGKILLs, and the run is resumed to the end`, async () => {
    const broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: 'crash-sim' });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-crash-'));
    const engineEnv = { MQTT_URL: broker.url, ENGINE_ID: 'e-crash', DEVICE_ID: 'crash-sim', LABRUN_DATA_DIR: dataDir };
    let engine: ServiceProcess = await startService('engine', engineEnv);

    const client = await connectTestClient(broker.url);
    await client.subscribe(['run/crash/status', 'run/crash/events']);
    const statuses = () => client.messages('run/crash/status').map((m) => m.json() as RunStatusDocument);
    const seen = () => client.messages('run/crash/events').map((m) => m.json() as RunEvent);
    // The run's history as the next engine will replay it, read from the stopped engine's journal without changing it.
    const journal = async (): Promise<RunEvent[]> => {
      const { histories } = await readJournal(path.join(dataDir, 'runs'));
      return histories.find((h) => h[0]?.runId === 'crash') ?? [];
    };

    await client.publish('run/crash/create', { protocol: { schemaVersion: 1, metadata: { name: 'crash' }, commands } });
    await client.waitFor('run/crash/status', (m) => m.json().status === 'idle');
    await client.publish('run/crash/actions', { type: 'play', id: 'play' });

    // Whoever watches the run resumes it whenever it pauses (by the protocol, or after a restart).
    let resumes = 0;
    client.client.on('message', (topic, payload) => {
      if (topic !== 'run/crash/status' || payload.length === 0) return;
      const status = JSON.parse(payload.toString()) as RunStatusDocument;
      if (status.status === 'paused') void client.publish('run/crash/actions', { type: 'resume', id: `resume-${++resumes}` });
    });

    for (let kill = 1; kill <= KILLS; kill++) {
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 450));
      if (statuses().at(-1)?.status === 'succeeded') break;
      await engine.kill();
      const before = seen().filter((e) => e.seq > 0);
      const lastSeen = statuses().at(-1)!;

      // Every event a subscriber saw was on disk before it was published: all of them are in the journal.
      const onDisk = new Map((await journal()).map((e) => [e.seq, e]));
      for (const event of before) expect(onDisk.get(event.seq), `event ${event.seq} (${event.type}) after kill ${kill}`).toEqual(event);

      const mark = client.received.length;
      engine = await startService('engine', engineEnv);
      const restored: RunStatusDocument = (await client.waitFor('run/crash/status', (m) => m.text !== '' && client.received.indexOf(m) >= mark)).json();
      expect(restored.seq).toBeGreaterThanOrEqual(lastSeen.seq);
      expect(restored.progress.completed).toBeGreaterThanOrEqual(lastSeen.progress.completed);
      if (lastSeen.status === 'paused' && lastSeen.pause?.source === 'protocol' && restored.seq === lastSeen.seq) {
        // A paused run comes back exactly as it was.
        expect(restored.pause).toEqual(lastSeen.pause);
      }
      if (restored.status === 'paused' && restored.pause?.source === 'recovery') {
        expect(restored.pause.message).toMatch(/^the engine restarted( during (home|move|delay|comment|pause) \(command \d+ of \d+\))?: check the machine, then resume/);
      }
    }

    const done = await client.waitFor('run/crash/status', (m) => m.text !== '' && m.json().status === 'succeeded', 60_000);
    expect(done.json().progress).toEqual({ completed: commands.length, total: commands.length });

    // Nothing done was done again: each command succeeded exactly once, in order; every accepted action is kept.
    await engine.stop();
    const history = await journal();
    expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
    const succeeded = history.filter((e) => e.type === 'command.succeeded').map((e) => (e as { index: number }).index);
    expect(succeeded).toEqual(commands.map((_, i) => i));
    const accepted = seen()
      .filter((e) => e.type === 'action.accepted')
      .map((e) => (e as { actionId: string }).actionId);
    const kept = new Set(history.filter((e) => e.type === 'action.accepted').map((e) => (e as { actionId: string }).actionId));
    for (const id of accepted) expect(kept.has(id), `accepted action ${id}`).toBe(true);
    expect(history.filter((e) => e.type === 'run.recovered').length).toBeGreaterThan(0);
    await client.close();
  }, 180_000);
});
