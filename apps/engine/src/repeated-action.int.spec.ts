// A client that retries an action id (as MQTT clients and LIMSes do) is answered again, and the answer is never
// journaled a second time: after a restart the run is exactly as it was, and nothing is carried out again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import { readJournal } from '@labrun/engine';
import { connectTestClient, startBroker, startService, stopAll } from '@labrun/testkit';

const protocol = {
  schemaVersion: 1,
  metadata: { name: 'retried' },
  commands: [
    { type: 'pause', params: { message: 'first' } },
    { type: 'comment', params: { message: 'a' } },
    { type: 'pause', params: { message: 'second' } },
    { type: 'comment', params: { message: 'b' } },
  ],
};

describe('a repeated action id', () => {
  afterAll(stopAll);

  for (const restart of ['SIGTERM', 'SIGKILL'] as const) {
    it(`is answered again and journaled once: after a ${restart} restart the finished run is still finished`, async () => {
      const broker = await startBroker();
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-repeat-'));
      const env = { MQTT_URL: broker.url, ENGINE_ID: 'e-repeat', LABRUN_DATA_DIR: dataDir };
      let engine = await startService('engine', env);
      const client = await connectTestClient(broker.url);
      await client.subscribe(['run/retried/status', 'run/retried/events']);
      const last = () => client.messages('run/retried/status').at(-1)!.json() as RunStatusDocument;

      await client.publish('run/retried/create', { protocol });
      await client.publish('run/retried/actions', { type: 'play', id: 'play-1' });
      await client.waitFor('run/retried/status', (m) => m.json().pause?.message === 'first');
      await client.publish('run/retried/actions', { type: 'resume', id: 'resume-1' });
      await client.waitFor('run/retried/status', (m) => m.json().pause?.message === 'second');
      // The retries: the same ids again, one with another action type.
      await client.publish('run/retried/actions', { type: 'resume', id: 'resume-1' });
      await client.publish('run/retried/actions', { type: 'play', id: 'play-1' });
      await client.waitFor('run/retried/events', (m) => m.json().actionId === 'play-1' && client.messages('run/retried/events').filter((e) => e.json().actionId === 'play-1').length === 2);
      expect(last()).toMatchObject({ status: 'paused', pause: { message: 'second' } });
      await client.publish('run/retried/actions', { type: 'resume', id: 'resume-2' });
      await client.waitFor('run/retried/status', (m) => m.json().status === 'succeeded');
      await client.publish('run/retried/actions', { type: 'resume', id: 'resume-1' });
      await client.waitFor('run/retried/events', (m) => m.json().actionId === 'resume-1' && client.messages('run/retried/events').filter((e) => e.json().actionId === 'resume-1').length === 3);
      const before = last();

      if (restart === 'SIGTERM') await engine.stop();
      else await engine.kill();
      const { histories, warnings } = await readJournal(path.join(dataDir, 'runs'));
      const history = histories.find((h) => h[0]?.runId === 'retried')!;
      expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
      expect(warnings).toEqual([]);

      const mark = client.received.length;
      engine = await startService('engine', env);
      const after = await client.waitFor('run/retried/status', (m) => client.received.indexOf(m) >= mark);
      expect(after.json()).toMatchObject({ status: 'succeeded', seq: before.seq, progress: { completed: 4, total: 4 } });
      await client.publish('run/retried/actions', { type: 'resume', id: 'resume-after' });
      const answer = await client.waitFor('run/retried/events', (m) => m.json().actionId === 'resume-after');
      expect(answer.json()).toMatchObject({ type: 'action.rejected', code: 'run-finished' });
      const started = client
        .messages('run/retried/events')
        .map((m) => m.json() as RunEvent)
        .filter((e) => e.type === 'command.started');
      expect(started.map((e) => (e as { index: number }).index)).toEqual([0, 1, 2, 3]);
      await client.close();
      await engine.stop();
      await broker.stop();
    }, 60_000);
  }

  it('retried after the engine was SIGKILLed right after receiving it, is carried out exactly once', async () => {
    // The window the contract documents: the broker has the engine's PUBACK before the journal has the action, so
    // an action can be lost by a crash; no answer was published for it then, and the sender's retry with the same
    // id is applied once whether or not the first one reached the journal.
    const broker = await startBroker();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-retry-'));
    const env = { MQTT_URL: broker.url, ENGINE_ID: 'e-retry', LABRUN_DATA_DIR: dataDir };
    const pauses = 3;
    const commands = Array.from({ length: pauses }, (_, i) => ({ type: 'pause', params: { message: `check ${i + 1}` } }));
    let engine = await startService('engine', env);
    const client = await connectTestClient(broker.url);
    await client.subscribe(['run/window/status', 'run/window/events']);
    await client.publish('run/window/create', { protocol: { schemaVersion: 1, metadata: { name: 'window' }, commands } });
    await client.publish('run/window/actions', { type: 'play', id: 'play' });
    await client.waitFor('run/window/status', (m) => m.json().pause?.message === 'check 1');
    for (let k = 1; k <= pauses; k++) {
      await client.publish('run/window/actions', { type: 'resume', id: `resume-${k}` });
      await engine.kill();
      engine = await startService('engine', env);
      await client.publish('run/window/actions', { type: 'resume', id: `resume-${k}` });
      const answered = await client.waitFor('run/window/events', (m) => m.json().actionId === `resume-${k}`, 10_000);
      expect(answered.json().type, `resume-${k}`).toBe('action.accepted');
    }
    await client.waitFor('run/window/status', (m) => m.json().status === 'succeeded', 10_000);
    const events = client.messages('run/window/events').map((m) => m.json() as RunEvent);
    for (let k = 1; k <= pauses; k++) {
      const seqs = new Set(events.filter((e) => e.type === 'action.accepted' && e.actionId === `resume-${k}`).map((e) => e.seq));
      expect(seqs.size, `resume-${k} accepted once`).toBe(1);
    }
    await engine.stop();
    const { histories } = await readJournal(path.join(dataDir, 'runs'));
    const history = histories.find((h) => h[0]?.runId === 'window')!;
    // Each pause completed once (an event the kill caught between journal and publish is not published again:
    // the journal, and the status republished at start, are what count).
    expect(history.filter((e) => e.type === 'command.succeeded').map((e) => (e as { index: number }).index)).toEqual(commands.map((_, i) => i));
    await client.close();
    await broker.stop();
  }, 90_000);
});
