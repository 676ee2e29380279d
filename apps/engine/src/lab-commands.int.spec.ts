// Protocols that talk to other instruments, end to end over MQTT: the broker, the engine, and a stand-in plate
// reader made of an MQTT client. A protocol publishes a request under lab/, waits for the answer (an external
// pause), and succeeds with the answer in its commands document; a timed pause resumes itself; a wait that times
// out waits for recovery and skip goes on; a protocol that would publish to run/… is refused at create.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, flushRedisDb, requirement, startBroker, startService, startTcpProxy, stopAll, tcpReachable, type TcpProxy, type TestClient } from '@labrun/testkit';

describe('lab commands over MQTT', () => {
  let client: TestClient;
  let reader: TestClient;

  beforeAll(async () => {
    const broker = await startBroker();
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'e-lab', DEVICE_ID: 'sim-lab' });
    client = await connectTestClient(broker.url);
    // The stand-in plate reader: the test answers its requests.
    reader = await connectTestClient(broker.url);
    await reader.subscribe('lab/reader/request');
  });

  afterAll(async () => {
    await client?.close();
    await reader?.close();
    await stopAll();
  });

  async function create(commands: unknown[]): Promise<string> {
    const runId = `lab-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`, `run/${runId}/commands`]);
    await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'lab' }, commands } });
    await client.publish(`run/${runId}/actions`, 'play');
    return runId;
  }
  const status = async (runId: string, predicate: (s: RunStatusDocument) => boolean, timeoutMs = 15_000): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && predicate(m.json()), timeoutMs)).json();

  it('publishes a request, waits for the answer as an external pause, and succeeds with the answer as its result', async () => {
    const runId = await create([
      { type: 'publish', params: { topic: 'lab/reader/request', payload: { plate: 'P1', wavelength: 450 } } },
      { type: 'wait-for', params: { topic: 'lab/reader/result', field: 'status', equals: 'done', timeoutSeconds: 30, message: 'waiting for the plate reader' } },
      { type: 'comment', params: { message: 'read' } },
    ]);
    const request = await reader.waitFor('lab/reader/request', () => true);
    expect(request.json()).toEqual({ plate: 'P1', wavelength: 450 });
    const waiting = await status(runId, (s) => s.status === 'paused');
    expect(waiting).toMatchObject({
      current: { index: 1, type: 'wait-for' },
      pause: { source: 'external', message: 'waiting for the plate reader', since: expect.any(String), resumesAt: expect.any(String) },
    });
    await reader.publish('lab/reader/result', { status: 'busy' });
    await reader.publish('lab/reader/result', { status: 'done', od: [0.12, 0.48] });
    await status(runId, (s) => s.status === 'succeeded');
    const commands = (await client.waitFor(`run/${runId}/commands`, (m) => (m.json() as RunCommandsDocument).commands[1]!.status === 'succeeded')).json() as RunCommandsDocument;
    expect(commands.commands[1]).toMatchObject({ status: 'succeeded', result: { topic: 'lab/reader/result', payload: { status: 'done', od: [0.12, 0.48] } } });
  });

  it('a timed pause resumes by itself', async () => {
    const runId = await create([
      { type: 'pause', params: { message: 'Let the plate settle', timeoutSeconds: 1 } },
      { type: 'comment', params: { message: 'settled' } },
    ]);
    const paused = await status(runId, (s) => s.status === 'paused');
    expect(paused.pause).toMatchObject({ source: 'protocol', message: 'Let the plate settle', resumesAt: expect.any(String) });
    await status(runId, (s) => s.status === 'succeeded', 5_000);
  });

  it('a wait that times out waits for recovery, and skip goes on', async () => {
    const runId = await create([
      { type: 'wait-for', params: { topic: 'lab/incubator/ready', timeoutSeconds: 1 } },
      { type: 'comment', params: { message: 'after' } },
    ]);
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery', 5_000);
    expect(waiting.error).toMatchObject({ code: 'wait-timeout', commandIndex: 0 });
    await client.publish(`run/${runId}/actions`, 'skip');
    await status(runId, (s) => s.status === 'succeeded');
  });

  it('a protocol that publishes to run/… is refused at create, and nothing is published there', async () => {
    const runId = `lab-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/events`, 'run/victim/actions']);
    await client.publish(`run/${runId}/create`, {
      protocol: { schemaVersion: 1, metadata: { name: 'bad' }, commands: [{ type: 'publish', params: { topic: 'run/victim/actions', payload: 'stop' } }] },
    });
    const answer = (await client.waitFor(`run/${runId}/events`, () => true)).json() as RunEvent;
    expect(answer).toMatchObject({ type: 'run.rejected', code: 'invalid-create', message: expect.stringContaining("one of labrun's own topics") });
    await client.publish(`run/${runId}/actions`, 'play');
    await new Promise((r) => setTimeout(r, 300));
    expect(client.messages('run/victim/actions')).toEqual([]);
  });
});

// The engine subscribes for a wait-for on one connection and publishes on another. On a broker whose subscriptions
// take a while (labrun's on a Redis 100 ms away: a subscription is in force only once Redis has it), an instrument
// that answered at once answered before the wait could hear it, and the run waited until its timeout.
const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');

describe.skipIf(!hasRedis)('an instrument that answers at once', () => {
  const db = 9 + Math.floor(Math.random() * 6);
  let proxy: TcpProxy | undefined;
  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    await flushRedisDb(db);
  });

  it('is heard: the request goes out only once the broker has the wait-for subscription', async () => {
    await flushRedisDb(db);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 }, { delayMs: 100 });
    const broker = await startBroker({ BROKER_REDIS_URL: `redis://127.0.0.1:${proxy.port}/${db}` });
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'e-lab-fast', DEVICE_ID: 'sim-lab-fast' });
    const instrument = await connectTestClient(broker.url);
    await instrument.subscribe('lab/fast/request');
    instrument.client.on('message', (topic) => {
      if (topic === 'lab/fast/request') void instrument.publish('lab/fast/result', { status: 'done' });
    });
    const watcher = await connectTestClient(broker.url);
    const runId = `fast-${randomUUID().slice(0, 8)}`;
    await watcher.subscribe(`run/${runId}/status`);
    await watcher.publish(`run/${runId}/create`, {
      protocol: {
        schemaVersion: 1,
        metadata: { name: 'fast instrument' },
        commands: [
          { type: 'publish', params: { topic: 'lab/fast/request', payload: { go: true } } },
          { type: 'wait-for', params: { topic: 'lab/fast/result', field: 'status', equals: 'done', timeoutSeconds: 5 } },
          { type: 'comment', params: { message: 'answered' } },
        ],
      },
    });
    await watcher.publish(`run/${runId}/actions`, 'play');
    const end = await watcher.waitFor(`run/${runId}/status`, (m) => m.text !== '' && ['succeeded', 'awaiting-recovery', 'failed'].includes(m.json().status), 20_000);
    expect(end.json()).toMatchObject({ status: 'succeeded' });
    await Promise.all([instrument.close(), watcher.close()]);
  });
});
