// End to end over MQTT: the real broker, engine and hardware processes, and a plain MQTT client doing what
// `mosquitto_pub`/`mosquitto_sub` would. The same suite runs against labrun's broker (on ephemeral ports)
// and against the Mosquitto broker on 127.0.0.1:1883.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, MOSQUITTO_URL, mosquittoAvailable, startBroker, startService, stopAll, type ServiceProcess, type TestClient } from '@labrun/testkit';

const brokers = [
  { name: "labrun's broker", url: async () => (await startBroker()).url, available: true },
  { name: 'Mosquitto', url: async () => MOSQUITTO_URL, available: await mosquittoAvailable() },
];

const protocol = (commands: unknown[]) => ({ schemaVersion: 1, metadata: { name: 'integration' }, commands });

for (const broker of brokers) {
  describe.skipIf(!broker.available)(`a run over MQTT, through ${broker.name}`, () => {
    // Unique ids per suite: the Mosquitto broker is shared with whatever else runs on this machine.
    const suffix = randomUUID().slice(0, 8);
    const deviceId = `it-sim-${suffix}`;
    const engineId = `it-engine-${suffix}`;
    let url: string;
    let client: TestClient;
    const cleanups: string[] = [];
    const services: ServiceProcess[] = [];

    beforeAll(async () => {
      url = await broker.url();
      services.push(await startService('hardware', { MQTT_URL: url, DEVICE_ID: deviceId }));
      services.push(await startService('engine', { MQTT_URL: url, ENGINE_ID: engineId, DEVICE_ID: deviceId }));
      client = await connectTestClient(url);
    });

    afterAll(async () => {
      // Leave no retained messages behind on a shared broker: stop the services first (they announce
      // online=false as they go), then clear what they and the runs left retained, then stop the broker.
      for (const service of services) await service.stop();
      for (const topic of [...cleanups, `hw/${deviceId}/state`, `hw/${deviceId}/online`, `engine/${engineId}/online`]) {
        await client?.publish(topic, '', { retain: true });
      }
      await client?.close();
      // The engine kept a persistent session (its actions wait while it restarts); on a broker that keeps
      // sessions on disk, as Mosquitto does, it would queue messages for this engine forever: forget it.
      if (url) await (await connectTestClient(url, { clientId: `labrun-engine-${engineId}`, clean: true })).close();
      await stopAll();
    });

    /** Create a run of these commands, subscribed to its status and events. */
    async function createRun(commands: unknown[]) {
      const runId = `it-${randomUUID().slice(0, 8)}`;
      cleanups.push(`run/${runId}/status`, `run/${runId}/commands`);
      await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
      await client.publish(`run/${runId}/create`, { protocol: protocol(commands) });
      await statusWhere(runId, (s) => s.status === 'idle');
      const act = (payload: string | object) => client.publish(`run/${runId}/actions`, payload);
      return { runId, act };
    }

    const statusWhere = async (runId: string, predicate: (s: RunStatusDocument) => boolean, timeoutMs?: number): Promise<RunStatusDocument> =>
      (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && predicate(m.json()), timeoutMs)).json();
    const eventWhere = async (runId: string, predicate: (e: RunEvent) => boolean): Promise<RunEvent> => (await client.waitFor(`run/${runId}/events`, (m) => predicate(m.json()))).json();
    const events = (runId: string): RunEvent[] => client.messages(`run/${runId}/events`).map((m) => m.json());

    /** The retained status, as a client that subscribes now would see it. */
    async function retainedStatus(runId: string): Promise<RunStatusDocument> {
      const fresh = await connectTestClient(url);
      try {
        await fresh.subscribe(`run/${runId}/status`);
        const message = await fresh.waitFor(`run/${runId}/status`);
        expect(message.retain).toBe(true);
        return message.json();
      } finally {
        await fresh.close();
      }
    }

    it('pauses itself with a message, and resumes on a bare `resume` and then on a JSON resume', async () => {
      const { runId, act } = await createRun([
        { type: 'home' },
        { type: 'move', params: { x: 4, y: 3, feed: 6000 } },
        { type: 'pause', params: { message: 'Check the samples' } },
        { type: 'pause', params: { message: 'Add the reagent' } },
        { type: 'comment', params: { message: 'Done' } },
      ]);
      const before = Date.now();
      await act('play');

      const paused = await statusWhere(runId, (s) => s.status === 'paused');
      expect(paused.pause).toMatchObject({ source: 'protocol', message: 'Check the samples', by: null });
      expect(Date.parse(paused.pause!.since!)).toBeGreaterThanOrEqual(before - 1000);
      expect(paused.current).toMatchObject({ index: 2, type: 'pause', startedAt: paused.pause!.since });
      expect(paused.progress).toEqual({ completed: 2, total: 5 });
      expect(paused.allowedActions).toEqual(['play', 'resume', 'stop']);
      expect(await retainedStatus(runId)).toMatchObject({ status: 'paused', pause: { message: 'Check the samples' } });

      await act('resume');
      const second = await statusWhere(runId, (s) => s.status === 'paused' && s.current?.index === 3);
      expect(second.pause).toMatchObject({ source: 'protocol', message: 'Add the reagent' });
      const resumed = events(runId).find((e) => e.type === 'action.accepted' && e.action === 'resume')!;
      const firstPauseDone = events(runId).find((e) => e.type === 'command.succeeded' && e.index === 2)!;
      expect(firstPauseDone.at).toBe(resumed.at); // the pause command completed at the resume

      await act({ type: 'resume', id: `resume-${runId}`, by: 'integration test' });
      const done = await statusWhere(runId, (s) => s.status === 'succeeded');
      expect(done.progress).toEqual({ completed: 5, total: 5 });
      expect(done.allowedActions).toEqual([]);
      expect(await retainedStatus(runId)).toMatchObject({ status: 'succeeded' });
    });

    it('rejects a resume while running with an event, and leaves the run as it was', async () => {
      const { runId, act } = await createRun([{ type: 'delay', params: { seconds: 30 } }]);
      await act('play');
      const running = await statusWhere(runId, (s) => s.status === 'running' && s.delay !== null);
      await act({ type: 'resume', id: 'early' });
      const rejected = await eventWhere(runId, (e) => e.type === 'action.rejected');
      expect(rejected).toMatchObject({ actionId: 'early', action: 'resume', code: 'not-paused', message: `cannot resume run ${runId}: it is running, not paused` });
      expect(await retainedStatus(runId)).toEqual(running);
      await act('stop');
      await statusWhere(runId, (s) => s.status === 'stopped');
    });

    it('applies the same action id once, and answers the repeat again', async () => {
      const { runId, act } = await createRun([{ type: 'pause' }, { type: 'pause' }, { type: 'comment', params: { message: 'end' } }]);
      await act('play');
      await statusWhere(runId, (s) => s.status === 'paused' && s.current?.index === 0);
      await act({ type: 'resume', id: 'once' });
      await act({ type: 'resume', id: 'once' });
      await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'once' && m.json() && events(runId).filter((e) => 'actionId' in e && e.actionId === 'once').length === 2);
      const answers = events(runId).filter((e) => 'actionId' in e && e.actionId === 'once');
      expect(answers.map((e) => e.type)).toEqual(['action.accepted', 'action.accepted']);
      expect(answers[1]).toEqual(answers[0]);
      const status = await retainedStatus(runId);
      expect(status).toMatchObject({ status: 'paused', current: { index: 1 } });
      await act('stop');
    });

    it('stop while paused ends the run stopped, the pause command failed "run stopped"', async () => {
      const { runId, act } = await createRun([
        { type: 'pause', params: { message: 'wait here' } },
        { type: 'comment', params: { message: 'never' } },
      ]);
      await act('play');
      await statusWhere(runId, (s) => s.status === 'paused');
      await act('stop');
      const stopped = await statusWhere(runId, (s) => s.status === 'stopped');
      expect(stopped).toMatchObject({ pause: null, current: null, progress: { completed: 0, total: 2 }, allowedActions: [] });
      expect(events(runId).find((e) => e.type === 'command.failed')).toMatchObject({ index: 0, code: 'stopped', message: 'run stopped' });
    });

    it('freezes a delay countdown while paused', async () => {
      const { runId, act } = await createRun([
        { type: 'delay', params: { seconds: 1.5, message: 'Incubate' } },
        { type: 'comment', params: { message: 'after' } },
      ]);
      const start = Date.now();
      await act('play');
      await statusWhere(runId, (s) => s.delay !== null);
      await new Promise((r) => setTimeout(r, 300));
      await act('pause');
      const paused = await statusWhere(runId, (s) => s.status === 'paused');
      const left = paused.delay!.remainingSeconds;
      expect(paused.delay).toMatchObject({ message: 'Incubate', endsAt: null });
      expect(left).toBeGreaterThan(0.5);
      expect(left).toBeLessThan(1.5);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await retainedStatus(runId)).delay).toMatchObject({ remainingSeconds: left, endsAt: null });
      await act('resume');
      const resumed = await statusWhere(runId, (s) => s.status === 'running' && s.seq > paused.seq);
      expect(resumed.delay!.remainingSeconds).toBe(left);
      await statusWhere(runId, (s) => s.status === 'succeeded');
      expect(Date.now() - start).toBeGreaterThanOrEqual(2400); // 1.5 s of delay + 1 s frozen
    });

    it('ends a delay on skip-delay', async () => {
      const { runId, act } = await createRun([
        { type: 'delay', params: { seconds: 3600 } },
        { type: 'comment', params: { message: 'after' } },
      ]);
      await act('play');
      await statusWhere(runId, (s) => s.delay !== null);
      await act('skip-delay');
      const done = await statusWhere(runId, (s) => s.status === 'succeeded');
      expect(done.progress).toEqual({ completed: 2, total: 2 });
    });

    it('answers unreadable creates and actions with rejection events, and keeps working', async () => {
      const runId = `it-${randomUUID().slice(0, 8)}`;
      await client.subscribe(`run/${runId}/events`);
      await client.publish(`run/${runId}/create`, '{"protocol": {"schemaVersion": 1, "metadata": {"name": "x"}, "commands": [{"type": "teleport"}]}}');
      expect(await eventWhere(runId, (e) => e.type === 'run.rejected')).toMatchObject({ code: 'invalid-create', message: expect.stringContaining('unknown command type') });
      await client.publish(`run/${runId}/actions`, Buffer.from([0xff, 0xfe]));
      expect(await eventWhere(runId, (e) => e.type === 'action.rejected')).toMatchObject({ code: 'invalid-action', message: expect.stringContaining('not valid UTF-8') });

      const { runId: ok, act } = await createRun([{ type: 'pause' }]);
      await act('{"type": "resume", "extra": true}');
      expect(await eventWhere(ok, (e) => e.type === 'action.rejected')).toMatchObject({ code: 'invalid-action', message: expect.stringContaining('Unrecognized key') });
      await act('play');
      await statusWhere(ok, (s) => s.status === 'paused');
      await act('resume');
      await statusWhere(ok, (s) => s.status === 'succeeded');
    });
  });
}
