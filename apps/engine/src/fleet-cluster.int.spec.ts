// A fleet at lab size, with real processes: three engines, each serving its own device (a hardware service on its
// built-in GRBL simulator), and a fourth engine that claims the first one's device. On two labrun brokers clustered
// on Redis (each process on one or the other), and on the machine's Mosquitto. 300 runs, each `move, pause, move,
// comment`: every command is carried out exactly once, by the engine serving its device — counted from the run
// events and from the hardware requests on hw/<device>/requests (whose replyTo names the engine) — while one engine
// is SIGKILLed with its runs mid-protocol and restarted, and the claimant, though it leads the fleet, carries out
// nothing.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import {
  connectTestClient,
  flushRedisDb,
  MOSQUITTO_URL,
  mosquittoAvailable,
  requirement,
  startBroker,
  startService,
  stopAll,
  tcpReachable,
  type ServiceProcess,
  type TestClient,
} from '@labrun/testkit';

const hasMosquitto = await mosquittoAvailable();

const RUNS_PER_DEVICE = 100;

interface Setup {
  name: string;
  available: boolean;
  /** Two broker URLs: the processes alternate between them (the same URL twice for one broker). */
  brokers: () => Promise<[string, string]>;
}

const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');
const REDIS_DB = 15; // a database of its own: the other Redis specs use 3..14

const setups: Setup[] = [
  {
    name: 'two labrun brokers clustered on Redis',
    available: hasRedis,
    brokers: async () => {
      await flushRedisDb(REDIS_DB);
      const redis = { BROKER_REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}` };
      const [a, b] = await Promise.all([startBroker(redis), startBroker(redis)]);
      return [a.url, b.url];
    },
  },
  { name: "the machine's Mosquitto", available: hasMosquitto, brokers: async () => [MOSQUITTO_URL, MOSQUITTO_URL] },
];

describe.each(setups)('a fleet of three engines and a claimant on $name', ({ available, brokers }) => {
  const suffix = randomUUID().slice(0, 6);
  const devices = [1, 2, 3].map((n) => `fc-d${n}-${suffix}`);
  const engineIds = [1, 2, 3].map((n) => `fc-e${n}-${suffix}`);
  // The lowest id of the fleet: it answers what nobody serves, but d1 is e1's.
  const claimantId = `fc-a-claimant-${suffix}`;
  const dataDirs = engineIds.map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-fleet-')));
  let urls: [string, string];
  let client: TestClient;
  let watcher: TestClient;
  const engines = new Map<string, ServiceProcess>();
  const runIds: string[] = [];
  const deviceOf = new Map<string, string>();
  const statuses = new Map<string, RunStatusDocument>();
  const engineOfStatus = new Map<string, Set<string>>();
  const events = new Map<string, RunEvent[]>();
  const requests = new Map<string, { op: string; engine: string }[]>();

  const startEngine = (i: number) =>
    startService('engine', { MQTT_URL: urls[i % 2], ENGINE_ID: engineIds[i], ENGINE_DEVICES: devices[i], LABRUN_DATA_DIR: dataDirs[i] }).then((e) => {
      engines.set(engineIds[i]!, e);
      return e;
    });

  beforeAll(async () => {
    if (!available) return;
    urls = await brokers();
    // The watcher listens on one broker, the client sends on the other: the cluster carries everything across.
    watcher = await connectTestClient(urls[0]);
    client = await connectTestClient(urls[1]);
    watcher.client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const [root, id, kind] = topic.split('/');
      if (root === 'run' && kind === 'status') {
        const status = JSON.parse(payload.toString()) as RunStatusDocument;
        statuses.set(id!, status);
        if (status.engineId) (engineOfStatus.get(id!) ?? engineOfStatus.set(id!, new Set()).get(id!)!).add(status.engineId);
      } else if (root === 'run' && kind === 'events') {
        (events.get(id!) ?? events.set(id!, []).get(id!)!).push(JSON.parse(payload.toString()));
      } else if (root === 'hw' && kind === 'requests') {
        const request = JSON.parse(payload.toString()) as { op: string; replyTo: string };
        (requests.get(id!) ?? requests.set(id!, []).get(id!)!).push({ op: request.op, engine: request.replyTo.split('/')[1]! });
      }
    });
    await watcher.subscribe(['run/+/status', 'run/+/events', ...devices.map((d) => `hw/${d}/requests`), ...devices.map((d) => `hw/${d}/state`)]);
    await Promise.all(devices.map((d, i) => startService('hardware', { MQTT_URL: urls[i % 2], DEVICE_ID: d })));
    await Promise.all(devices.map((d) => watcher.waitFor(`hw/${d}/state`, (m) => m.text !== '' && m.json().connected === true, 30_000)));
    await Promise.all(engineIds.map((_, i) => startEngine(i)));
  }, 120_000);

  afterAll(async () => {
    if (!available) return;
    if (urls?.[0] === MOSQUITTO_URL) {
      // Mosquitto is shared and keeps what it is given: take back every retained message and persistent session.
      const retained = [
        ...runIds.flatMap((r) => [`run/${r}/status`, `run/${r}/commands`]),
        ...devices.flatMap((d) => [`hw/${d}/state`, `hw/${d}/online`, `device/${d}/current`]),
        ...[...engineIds, claimantId].flatMap((e) => [`engine/${e}/online`, `engine/${e}/status`]),
      ];
      for (const topic of retained) await client?.publish(topic, '', { retain: true });
    }
    await client?.close();
    await watcher?.close();
    await stopAll();
    if (urls?.[0] === MOSQUITTO_URL) {
      for (const id of [...engineIds, claimantId]) await (await connectTestClient(MOSQUITTO_URL, { clientId: `labrun-engine-${id}`, clean: true })).close();
    }
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const until = async (what: string, check: () => boolean, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const count = (runId: string, type: string, index: number) => (events.get(runId) ?? []).filter((e) => e.type === type && 'index' in e && e.index === index).length;

  it.skipIf(!available)('300 runs: every command carried out exactly once by the right engine, through a SIGKILL and restart, the claimant carrying out none', { timeout: 300_000 }, async () => {
    const claimant = await startService('engine', { MQTT_URL: urls[1], ENGINE_ID: claimantId, ENGINE_DEVICES: devices[0] });
    await claimant.waitFor(new RegExp(`error refusing to serve device ${devices[0]}: engine ${engineIds[0]} serves it`), 20_000);

    // Each device homes once; then 100 runs each, all at once.
    const homes = devices.map((d) => ({ runId: `fc-home-${d}`, deviceId: d }));
    for (const { runId, deviceId } of homes) {
      await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'home' }, commands: [{ type: 'home' }] }, deviceId });
      await client.publish(`run/${runId}/actions`, 'play');
      runIds.push(runId);
    }
    await until('every device is homed', () => homes.every(({ runId }) => count(runId, 'command.succeeded', 0) === 1));
    const protocol = {
      schemaVersion: 1,
      metadata: { name: 'fleet' },
      commands: [
        { type: 'move', params: { x: 1, feed: 20000 } },
        { type: 'pause', params: { message: 'Check the plate' } },
        { type: 'move', params: { x: 0, feed: 20000 } },
        { type: 'comment', params: { message: 'done' } },
      ],
    };
    const runs: string[] = [];
    for (let n = 0; n < RUNS_PER_DEVICE; n++) {
      for (const deviceId of devices) {
        const runId = `fc-${suffix}-${deviceId.slice(3, 5)}-${n}`;
        runs.push(runId);
        runIds.push(runId);
        deviceOf.set(runId, deviceId);
        await client.publish(`run/${runId}/create`, { protocol, deviceId });
        await client.publish(`run/${runId}/actions`, { type: 'play', id: `play-${runId}` });
      }
    }
    await until('all 300 runs wait at their protocol pause', () => runs.every((r) => count(r, 'command.started', 1) === 1), 120_000);

    // e2 dies with its 100 runs mid-protocol, and comes back on its journal.
    const e2 = engines.get(engineIds[1]!)!;
    await e2.kill();
    const back = await startEngine(1);
    await back.waitFor(new RegExp(`info restored runs from the journal runs=${RUNS_PER_DEVICE + 1} `), 30_000);

    for (const runId of runs) await client.publish(`run/${runId}/actions`, { type: 'resume', id: `resume-${runId}` });
    await until('all 300 runs succeed', () => runs.every((r) => count(r, 'command.succeeded', 3) === 1), 180_000);
    // The retained statuses too: every watcher sees each run end.
    await until("every run's status says succeeded", () => runs.every((r) => statuses.get(r)?.status === 'succeeded'), 30_000);
    await new Promise((r) => setTimeout(r, 1000)); // room for anything doubled to show up

    for (const runId of runs) {
      const i = devices.indexOf(deviceOf.get(runId)!);
      expect([...(engineOfStatus.get(runId) ?? [])], runId).toEqual([engineIds[i]]);
      for (const index of [0, 1, 2, 3]) {
        expect(count(runId, 'command.started', index), `${runId} command ${index} started`).toBe(1);
        expect(count(runId, 'command.succeeded', index), `${runId} command ${index} succeeded`).toBe(1);
      }
      expect((events.get(runId) ?? []).filter((e) => e.type === 'run.created')).toHaveLength(1);
      expect((events.get(runId) ?? []).filter((e) => e.type === 'action.accepted').map((e) => (e as { actionId: string }).actionId)).toEqual([`play-${runId}`, `resume-${runId}`]);
    }
    // The hardware requests: one home and two moves per run on each device, every one from its engine.
    for (const [i, deviceId] of devices.entries()) {
      const sent = requests.get(deviceId) ?? [];
      expect(sent.filter((r) => r.op === 'move')).toHaveLength(2 * RUNS_PER_DEVICE);
      expect(sent.filter((r) => r.op === 'home')).toHaveLength(1);
      expect(new Set(sent.filter((r) => r.op === 'move' || r.op === 'home').map((r) => r.engine))).toEqual(new Set([engineIds[i]]));
    }
    expect(claimant.output()).not.toMatch(/ info status /);
  });
});
