// Engines in a fleet, each logged in as a service user held to its devices (`devices` in the auth file): what one
// publishes for another's device is acknowledged and discarded, as any publish outside a role is; a service user
// without devices keeps every right it had. Then real engine processes under such users, carrying out their runs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, flushRedisDb, requirement, startBroker, startService, stopAll, tcpReachable, type BrokerProcess, type TestClient } from '@labrun/testkit';
import { addUser } from '@labrun/auth';

const E1 = { username: 'engine-e1', password: 'engine-e1-secret' };
const E2 = { username: 'engine-e2', password: 'engine-e2-secret' };
const SERVICE = { username: 'svc', password: 'service-secret-1' };
const ADMIN = { username: 'admin', password: 'admin-secret-1' };

const status = (runId: string, deviceId: string, extra: Partial<RunStatusDocument> = {}) => JSON.stringify({ runId, status: 'running', deviceId, seq: 1, ...extra });
const event = (runId: string, type: string, extra: Record<string, unknown> = {}) => JSON.stringify({ runId, seq: 2, at: new Date().toISOString(), type, ...extra });

let dir: string;
let authFile: string;
let broker: BrokerProcess;
/** An admin subscribed to everything: what reaches it reached the broker's subscribers. */
let watcher: TestClient;
const clients: TestClient[] = [];

async function login(user: { username: string; password: string }, options: mqtt.IClientOptions = {}): Promise<TestClient> {
  const client = await connectTestClient(broker.url, { ...user, reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Publish at QoS 1 and see what became of it: delivered to the watcher, or discarded as the broker's log says (and why). */
async function outcome(client: TestClient, topic: string, payload: string, options: { retain?: boolean } = {}): Promise<'delivered' | string> {
  const logged = broker.output().length; // only this publish's refusal counts
  await client.publish(topic, payload, options);
  const line = new RegExp(`warn refused a publish clientId=${escape(client.client.options.clientId!)} .*topic=${escape(topic)} why=(.*)\\n`);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (watcher.received.some((m) => m.topic === topic && m.text === payload)) return 'delivered';
    const refused = line.exec(broker.output().slice(logged));
    // The log quotes a value with spaces in it, as JSON.
    if (refused) return `discarded: ${refused[1]!.startsWith('"') ? JSON.parse(refused[1]!) : refused[1]}`;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${topic} to be delivered or discarded`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-broker-devices-'));
  authFile = path.join(dir, 'auth.json');
  await addUser(authFile, E1.username, 'service', E1.password, { devices: ['d1'] });
  await addUser(authFile, E2.username, 'service', E2.password, { devices: ['d2'] });
  await addUser(authFile, SERVICE.username, 'service', SERVICE.password);
  await addUser(authFile, ADMIN.username, 'admin', ADMIN.password);
  broker = await startBroker({ LABRUN_AUTH_FILE: authFile });
  watcher = await connectTestClient(broker.url, ADMIN);
  await watcher.subscribe('#');
}, 60_000);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await watcher?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('a service user held to devices', () => {
  it('publishes the status of a run on its device, and not of a run on another: no subscriber sees that one', async () => {
    const e1 = await login(E1);
    expect(await outcome(e1, 'run/r-d1/status', status('r-d1', 'd1'), { retain: true })).toBe('delivered');
    expect(await outcome(e1, 'run/r-d2/status', status('r-d2', 'd2'), { retain: true })).toBe("discarded: device d2 is not one of this user's devices (d1)");
    // Nothing of it was retained either: a new subscriber gets the first and not the second.
    const late = await login(ADMIN);
    await late.subscribe('run/+/status');
    await late.waitFor('run/r-d1/status');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late.messages('run/r-d2/status')).toHaveLength(0);
    expect(watcher.messages('run/r-d2/status')).toHaveLength(0);
    expect(broker.output()).toMatch(/warn refused a publish clientId=engine-e1-\S+ user=engine-e1 role=service devices=d1 topic=run\/r-d2\/status why=/);
  });

  it("sends hardware requests to its device, not to another's", async () => {
    const e1 = await login(E1);
    const request = JSON.stringify({ id: 'q-1', replyTo: 'engine/e1/replies', op: 'home', params: {} });
    expect(await outcome(e1, 'hw/d1/requests', request)).toBe('delivered');
    expect(await outcome(e1, 'hw/d2/requests', request)).toBe("discarded: device d2 is not one of this user's devices (d1)");
    expect(await outcome(e1, 'device/d2/current', status('r-d2', 'd2'))).toBe("discarded: device d2 is not one of this user's devices (d1)");
  });

  it("cannot touch another engine's run: its status, its events, its commands, its clearing", async () => {
    const [e1, e2] = [await login(E1), await login(E2)];
    expect(await outcome(e2, 'run/r-e2/status', status('r-e2', 'd2'), { retain: true })).toBe('delivered');
    expect(await outcome(e2, 'run/r-e2/events', event('r-e2', 'command.started', { index: 0, commandType: 'home' }))).toBe('delivered');
    // e1 naming its own device for e2's run would take the run over: refused.
    expect(await outcome(e1, 'run/r-e2/status', status('r-e2', 'd1', { status: 'failed' }), { retain: true })).toBe("discarded: run r-e2 is on device d2, not one of this user's devices (d1)");
    expect(await outcome(e1, 'run/r-e2/events', event('r-e2', 'command.failed', { index: 0 }))).toBe("discarded: run r-e2 is on device d2, not one of this user's devices (d1)");
    expect(await outcome(e1, 'run/r-e2/commands', '{"runId":"r-e2","seq":1,"commands":[]}')).toMatch(/^discarded: run r-e2 is on device d2/);
    expect(await outcome(e1, 'run/r-e2/actions', 'stop')).toMatch(/^discarded: run r-e2 is on device d2/);
    await e1.publish('run/r-e2/status', '', { retain: true });
    await broker.waitFor(/refused a publish clientId=engine-e1-\S+ .*topic=run\/r-e2\/status why="clearing a run's status: run r-e2 is on device d2/);
    const late = await login(ADMIN);
    await late.subscribe('run/r-e2/status');
    expect((await late.waitFor('run/r-e2/status')).json()).toMatchObject({ deviceId: 'd2', status: 'running' });
    // Answering a create it refuses is always allowed: the create may have named e1's device.
    expect(await outcome(e1, 'run/r-e2/events', event('r-e2', 'run.rejected', { seq: 0, code: 'run-exists', message: 'engine e2 already has a run with that id' }))).toBe('delivered');
  });

  it('refuses a last will on a device that is not its own: CONNACK 5', async () => {
    const will = (topic: string) => ({ topic, payload: Buffer.from('false'), qos: 1 as const, retain: true });
    const connack = (topic: string) =>
      new Promise<number>((resolve) => {
        const client = mqtt.connect(broker.url, { protocolVersion: 4, reconnectPeriod: 0, clientId: `engine-e1-will-${topic.length}`, ...E1, will: will(topic) });
        client.once('connect', () => client.end(true, () => resolve(0)));
        client.once('error', (error: Error & { code?: number }) => client.end(true, () => resolve(error.code ?? -1)));
      });
    expect(await connack('hw/d2/online')).toBe(5);
    expect(await connack('hw/d1/online')).toBe(0);
  });
});

describe('a service user without devices', () => {
  it('may still do all of it, for every device', async () => {
    const svc = await login(SERVICE);
    expect(await outcome(svc, 'run/r-s2/status', status('r-s2', 'd2'))).toBe('delivered');
    expect(await outcome(svc, 'run/r-s2/events', event('r-s2', 'command.started', { index: 0, commandType: 'home' }))).toBe('delivered');
    expect(await outcome(svc, 'run/r-s2/commands', '{"runId":"r-s2","seq":1,"commands":[]}')).toBe('delivered');
    expect(await outcome(svc, 'hw/d2/requests', '{"id":"q-2"}')).toBe('delivered');
    expect(await outcome(svc, 'hw/d9/requests', '{"id":"q-9"}')).toBe('delivered');
    expect(await outcome(svc, 'device/d9/current', status('r-s9', 'd9'))).toBe('delivered');
    expect(await outcome(svc, 'engine/e9/status', '{"devices":["d1","d2","d9"]}')).toBe('delivered');
  });
});

describe('reloading the auth file', () => {
  it("disconnects a client whose user's devices changed", async () => {
    const e2 = await login(E2);
    const auth = JSON.parse(readFileSync(authFile, 'utf8'));
    auth.users[E2.username].devices = ['d2', 'd3'];
    writeFileSync(authFile, JSON.stringify(auth), { mode: 0o600 });
    const closed = new Promise<void>((resolve) => e2.client.once('close', () => resolve()));
    broker.proc.kill('SIGHUP');
    await closed;
    await broker.waitFor(/disconnecting a client whose user changed in the auth file .*user=engine-e2/);
    const again = await login(E2);
    expect(await outcome(again, 'hw/d3/requests', '{"id":"q-3"}')).toBe('delivered');
  });
});

const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');

describe.skipIf(!hasRedis)('a broker on Redis, restarted', () => {
  const db = 9 + Math.floor(Math.random() * 6); // 9..14, as redis.int.spec.ts
  beforeAll(() => flushRedisDb(db));
  afterAll(() => flushRedisDb(db));

  it('knows the devices of the runs whose statuses it kept, before their engines publish again', async () => {
    const env = { LABRUN_AUTH_FILE: authFile, BROKER_REDIS_URL: `redis://127.0.0.1:6379/${db}` };
    const first = await startBroker(env);
    const e2 = await connectTestClient(first.url, { ...E2, reconnectPeriod: 0 });
    await e2.publish('run/r-kept/status', status('r-kept', 'd2'), { retain: true });
    await e2.close();
    await first.stop();

    const main = broker;
    broker = await startBroker(env);
    try {
      await broker.waitFor(/learned the devices of the runs whose statuses are retained runs=1/);
      watcher = await connectTestClient(broker.url, ADMIN);
      await watcher.subscribe('#');
      const [e1, e2Again] = [await login(E1), await login(E2)];
      expect(await outcome(e1, 'run/r-kept/status', status('r-kept', 'd1'))).toBe("discarded: run r-kept is on device d2, not one of this user's devices (d1)");
      expect(await outcome(e2Again, 'run/r-kept/events', event('r-kept', 'command.started', { index: 0, commandType: 'home' }))).toBe('delivered');
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await watcher.close();
      await broker.stop();
      broker = main;
      watcher = await connectTestClient(broker.url, ADMIN);
      await watcher.subscribe('#');
    }
  });
});

describe('engines in a fleet under users held to their devices', () => {
  it('carry out their runs as before, and the broker refuses none of what they publish', { timeout: 90_000 }, async () => {
    const env = (user: typeof E1) => ({ MQTT_URL: broker.url, MQTT_USERNAME: user.username, MQTT_PASSWORD: user.password, LABRUN_FLEET_SETTLE_MS: '300' });
    await startService('engine', { ...env(E1), ENGINE_ID: 'e1', ENGINE_DEVICES: 'd1' });
    await startService('engine', { ...env(E2), ENGINE_ID: 'e2', ENGINE_DEVICES: 'd2' });
    await watcher.waitFor('engine/e2/status', (m) => m.text !== '' && (m.json() as { devices?: string[] }).devices?.includes('d2') === true, 15_000);
    const operator = await login(ADMIN);
    const protocol = { schemaVersion: 1, metadata: { name: 'fleet' }, commands: [{ type: 'comment', params: { message: 'hello' } }] };
    const runs = [
      { runId: 'fleet-1', deviceId: 'd1', engineId: 'e1' },
      { runId: 'fleet-2', deviceId: 'd2', engineId: 'e2' },
    ];
    for (const { runId, deviceId } of runs) {
      await operator.publish(`run/${runId}/create`, { protocol, deviceId });
      await operator.publish(`run/${runId}/actions`, { type: 'play', id: `play-${runId}` });
    }
    for (const { runId, deviceId, engineId } of runs) {
      const done = await watcher.waitFor(`run/${runId}/status`, (m) => m.text !== '' && m.json().status === 'succeeded', 30_000);
      expect(done.json()).toMatchObject({ engineId, deviceId });
      const types = watcher.messages(`run/${runId}/events`).map((m) => m.json().type);
      expect(types).toEqual(expect.arrayContaining(['run.created', 'action.accepted', 'command.started', 'command.succeeded']));
      await watcher.waitFor(`run/${runId}/commands`, (m) => m.text !== '' && m.json().commands[0]?.status === 'succeeded');
      await watcher.waitFor(`device/${deviceId}/current`, (m) => m.text !== '' && m.json().runId === runId);
    }
    // A create for a device nobody serves is answered by the leader (e1), with a run.rejected the broker lets through.
    await operator.publish('run/fleet-9/create', { protocol, deviceId: 'd9' });
    const rejected = await watcher.waitFor('run/fleet-9/events', (m) => m.json().type === 'run.rejected', 15_000);
    expect(rejected.json()).toMatchObject({ code: 'unknown-device' });
    // An action for a run nobody holds: unknown-run, from the leader.
    await operator.publish('run/fleet-8/actions', { type: 'stop', id: 'stop-8' });
    expect((await watcher.waitFor('run/fleet-8/events', (m) => m.json().type === 'action.rejected', 15_000)).json()).toMatchObject({ code: 'unknown-run' });
    expect(broker.output()).not.toMatch(/refused a publish clientId=labrun-engine-/);
  });
});
