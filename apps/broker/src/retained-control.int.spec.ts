// Retained creates and actions, with real processes. On labrun's broker a retained `play` or create is refused
// whole — the engine never carries it out, nothing stays retained — and the sender reads why on run/<id>/events.
// On Mosquitto (127.0.0.1:1883), which stores it like any retained message, the engine ignores what a broker
// delivers with retain=1 when it subscribes; what the contract says of a live retained publish is pinned too.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import {
  commandExists,
  connectTestClient,
  MOSQUITTO_URL,
  mosquittoAvailable,
  requirement,
  startBroker,
  startService,
  stopAll,
  type BrokerProcess,
  type ServiceProcess,
  type TestClient,
} from '@labrun/testkit';

const hasMosquittoPub = requirement(commandExists('mosquitto_pub'), 'mosquitto_pub', 'install mosquitto-clients (apt-get install mosquitto-clients)');
const hasMosquitto = await mosquittoAvailable();

const PROTOCOL = {
  schemaVersion: 1,
  metadata: { name: 'retained' },
  commands: [
    { type: 'comment', params: { message: 'hello' } },
    { type: 'pause', params: { message: 'Check' } },
  ],
};

/** `mosquitto_pub -h … -p … -q 1 <args>`: its exit code and what it printed. */
function mosquittoPub(url: string, args: string[]): Promise<{ code: number; output: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    execFile('mosquitto_pub', ['-h', hostname, '-p', port || '1883', '-V', 'mqttv311', '-q', '1', ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr }),
    );
  });
}

const events = (client: TestClient, runId: string): RunEvent[] => client.messages(`run/${runId}/events`).map((m) => m.json());

/** What a client that subscribes now gets retained on `topic`: waits for a round trip so nothing is missed. */
async function retainedOn(url: string, topic: string): Promise<string[]> {
  const late = await connectTestClient(url);
  try {
    await late.subscribe(topic);
    const sentinel = `sentinel/${randomUUID()}`;
    await late.subscribe(sentinel);
    await late.publish(sentinel, 'done');
    await late.waitFor(sentinel);
    return late
      .messages(topic)
      .filter((m) => m.retain)
      .map((m) => m.text);
  } finally {
    await late.close();
  }
}

describe.skipIf(!hasMosquittoPub)("labrun's broker refuses retained creates and actions", () => {
  const suffix = randomUUID().slice(0, 8);
  let broker: BrokerProcess;
  let client: TestClient;

  beforeAll(async () => {
    broker = await startBroker();
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: `rt-engine-${suffix}`, DEVICE_ID: `rt-sim-${suffix}` });
    client = await connectTestClient(broker.url);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await stopAll();
  });

  const statusWhere = async (runId: string, predicate: (s: RunStatusDocument) => boolean): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && predicate(m.json()), 20_000)).json();

  it('does not start an idle run on `mosquitto_pub -r` of a play, keeps nothing retained, and answers with code retained', { timeout: 60_000 }, async () => {
    const runId = `rt-play-${suffix}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
    await client.publish(`run/${runId}/create`, { protocol: PROTOCOL });
    await statusWhere(runId, (s) => s.status === 'idle');

    const { code } = await mosquittoPub(broker.url, ['-r', '-t', `run/${runId}/actions`, '-m', JSON.stringify({ type: 'play', id: 'retained-play', by: 'ana' })]);
    expect(code).toBe(0);
    const rejected = await client.waitFor(`run/${runId}/events`, (m) => m.json().type === 'action.rejected');
    expect(rejected.json()).toEqual({
      runId,
      seq: 0,
      at: expect.any(String),
      type: 'action.rejected',
      actionId: 'retained-play',
      action: 'play',
      code: 'retained',
      message: `cannot act on run ${runId}: a retained action is refused; publish it without the retain flag`,
    });
    await broker.waitFor(new RegExp(`warn refused a retained create or action: neither delivered nor stored clientId=\\S* topic=run/${runId}/actions`));

    // The engine reads its actions in order: once it has answered this later one, it would have seen the play.
    await client.publish(`run/${runId}/actions`, { type: 'resume', id: 'after-the-play' });
    await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'after-the-play');
    expect(events(client, runId).filter((e) => e.type === 'action.accepted')).toEqual([]);
    expect(client.messages(`run/${runId}/status`).at(-1)!.json().status).toBe('idle');
    expect(await retainedOn(broker.url, `run/${runId}/actions`)).toEqual([]);
  });

  it('names no action and makes up an id when the retained payload is not a readable action', { timeout: 30_000 }, async () => {
    const runId = `rt-garbage-${suffix}`;
    await client.subscribe(`run/${runId}/events`);
    await client.publish(`run/${runId}/actions`, 'not an action', { retain: true });
    const rejected = (await client.waitFor(`run/${runId}/events`, (m) => m.json().code === 'retained')).json();
    expect(rejected).toMatchObject({ type: 'action.rejected', seq: 0, action: null, actionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('does not create a run from a retained create, keeps nothing retained, and answers run.rejected with code retained', { timeout: 60_000 }, async () => {
    const runId = `rt-create-${suffix}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
    const { code } = await mosquittoPub(broker.url, ['-r', '-t', `run/${runId}/create`, '-m', JSON.stringify({ protocol: PROTOCOL })]);
    expect(code).toBe(0);
    const rejected = await client.waitFor(`run/${runId}/events`, (m) => m.json().type === 'run.rejected');
    expect(rejected.json()).toEqual({
      runId,
      seq: 0,
      at: expect.any(String),
      type: 'run.rejected',
      code: 'retained',
      message: `cannot create run ${runId}: a retained create is refused; publish it without the retain flag`,
    });

    // The engine does not know the run: a play for it is refused as unknown.
    await client.publish(`run/${runId}/actions`, { type: 'play', id: 'play-after-create' });
    const answer = (await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'play-after-create')).json();
    expect(answer).toMatchObject({ type: 'action.rejected', code: 'unknown-run' });
    expect(client.messages(`run/${runId}/status`)).toEqual([]);
    expect(await retainedOn(broker.url, `run/${runId}/create`)).toEqual([]);
  });

  it('lets an empty retained publish through (`mosquitto_pub -r -n`), which is how a retained message is cleared', { timeout: 30_000 }, async () => {
    const runId = `rt-clear-${suffix}`;
    await client.subscribe(`run/${runId}/actions`);
    const { code } = await mosquittoPub(broker.url, ['-r', '-n', '-t', `run/${runId}/actions`]);
    expect(code).toBe(0);
    await client.waitFor(`run/${runId}/actions`, (m) => m.text === '');
    expect(broker.output()).not.toMatch(new RegExp(`refused a retained create or action .*topic=run/${runId}/actions`));
  });
});

describe.skipIf(!hasMosquitto)('an engine on Mosquitto, which keeps retained creates and actions', () => {
  // Unique ids: the Mosquitto broker is shared with whatever else runs on this machine.
  const suffix = randomUUID().slice(0, 8);
  const deviceId = `rtm-sim-${suffix}`;
  const runId = `rtm-${suffix}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'labrun-engine-retained-'));
  const engineIds = [`rtm-engine-a-${suffix}`, `rtm-engine-b-${suffix}`];
  let client: TestClient;
  let engine: ServiceProcess | undefined;

  const startEngine = (engineId: string) => startService('engine', { MQTT_URL: MOSQUITTO_URL, ENGINE_ID: engineId, DEVICE_ID: deviceId, LABRUN_DATA_DIR: dataDir });

  beforeAll(async () => {
    client = await connectTestClient(MOSQUITTO_URL);
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
  });
  afterAll(async () => {
    await engine?.stop();
    for (const topic of [`run/${runId}/actions`, `run/${runId}/status`, `run/${runId}/commands`, ...engineIds.map((id) => `engine/${id}/online`)]) {
      await client?.publish(topic, '', { retain: true });
    }
    await client?.close();
    // Both engines kept persistent sessions on Mosquitto, which would queue messages for them forever: forget them.
    for (const id of engineIds) await (await connectTestClient(MOSQUITTO_URL, { clientId: `labrun-engine-${id}`, clean: true })).close();
    await stopAll();
  });

  it('ignores a retained play delivered when it subscribes, but carries out one published live with the retain flag', { timeout: 90_000 }, async () => {
    // An idle run, journaled; then no engine while a retained play is put on the broker.
    engine = await startEngine(engineIds[0]!);
    await client.publish(`run/${runId}/create`, { protocol: PROTOCOL });
    await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && m.json().status === 'idle', 20_000);
    await engine.stop();
    await client.publish(`run/${runId}/actions`, { type: 'play', id: 'stored-play' }, { retain: true });

    // Another engine on the same journal subscribes, and the broker hands it the play with retain=1.
    engine = await startEngine(engineIds[1]!);
    await engine.waitFor(new RegExp(`warn ignored a retained message on run/${runId}/actions`));
    await client.publish(`run/${runId}/actions`, { type: 'resume', id: 'after-the-stored-play' });
    await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'after-the-stored-play');
    expect(events(client, runId).filter((e) => e.type === 'action.accepted')).toEqual([]);

    // The documented limit: a live retained publish reaches the engine with retain=0, and is carried out once.
    await client.publish(`run/${runId}/actions`, { type: 'play', id: 'live-retained-play' }, { retain: true });
    const accepted = (await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'live-retained-play')).json();
    expect(accepted).toMatchObject({ type: 'action.accepted', action: 'play' });
  });
});
