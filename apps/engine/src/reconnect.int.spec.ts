// The broker goes away and comes back empty (no persistence): the engine reconnects by itself, announces
// itself again, republishes the retained status of every run it owns, and the run carries on.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, requirement, startBroker, startService, stopAll, tcpReachable, flushRedisDb } from '@labrun/testkit';

const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');

describe('when the broker restarts', () => {
  afterAll(stopAll);

  it('the engine reconnects, republishes its runs, and the paused run can still be resumed', async () => {
    const first = await startBroker();
    const port = new URL(first.url).port;
    const engine = await startService('engine', { MQTT_URL: first.url, ENGINE_ID: 'e-restart', DEVICE_ID: 'sim-restart' });
    await startService('hardware', { MQTT_URL: first.url, DEVICE_ID: 'sim-restart' });

    const client = await connectTestClient(first.url, { reconnectPeriod: 0 });
    await client.subscribe('run/r-restart/status');
    await client.publish('run/r-restart/create', {
      protocol: {
        schemaVersion: 1,
        metadata: { name: 'restart' },
        commands: [
          { type: 'pause', params: { message: 'Check the samples' } },
          { type: 'comment', params: { message: 'after' } },
        ],
      },
    });
    await client.publish('run/r-restart/actions', 'play');
    await client.waitFor('run/r-restart/status', (m) => m.json().status === 'paused');
    await client.close();

    await first.stop();
    await new Promise((r) => setTimeout(r, 500));
    const second = await startBroker({ BROKER_PORT: port });
    expect(second.url).toBe(first.url);
    const reconnectedAt = Date.now();

    const observer = await connectTestClient(second.url);
    await observer.subscribe(['run/r-restart/status', 'engine/e-restart/online']);
    const status: RunStatusDocument = (await observer.waitFor('run/r-restart/status', (m) => m.text !== '', 5000)).json();
    expect(status).toMatchObject({ status: 'paused', pause: { source: 'protocol', message: 'Check the samples' } });
    expect(Date.now() - reconnectedAt).toBeLessThan(4000);
    await observer.waitFor('engine/e-restart/online', (m) => m.text === 'true');
    expect(engine.output()).toMatch(/broker unreachable, retrying/);

    await observer.publish('run/r-restart/actions', 'resume');
    await observer.waitFor('run/r-restart/status', (m) => m.json().status === 'succeeded', 10_000);
    await observer.close();
  });

  it('an action published while the engine is down is applied when it comes back (persistent session)', async () => {
    const broker = await startBroker();
    const env = { MQTT_URL: broker.url, ENGINE_ID: 'e-away', DEVICE_ID: 'sim-away', LABRUN_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'labrun-away-')) };
    let engine = await startService('engine', env);
    const client = await connectTestClient(broker.url);
    await client.subscribe('run/r-away/status');
    await client.publish('run/r-away/create', {
      protocol: {
        schemaVersion: 1,
        metadata: { name: 'away' },
        commands: [
          { type: 'pause', params: { message: 'wait' } },
          { type: 'comment', params: { message: 'after' } },
        ],
      },
    });
    await client.publish('run/r-away/actions', 'play');
    await client.waitFor('run/r-away/status', (m) => m.json().status === 'paused');

    await engine.kill();
    await client.publish('run/r-away/actions', { type: 'resume', id: 'while-away' }); // nobody is subscribed right now but the engine's session
    engine = await startService('engine', env);
    await client.waitFor('run/r-away/status', (m) => m.json().status === 'succeeded', 10_000);
    await client.close();
  });

  it.skipIf(!hasRedis)('the broker restarts mid-run (state on Redis): the run finishes and no action is lost', async () => {
    const db = 3 + Math.floor(Math.random() * 5); // 3..7
    await flushRedisDb(db);
    const redis = { BROKER_REDIS_URL: `redis://127.0.0.1:6379/${db}` };
    const first = await startBroker(redis);
    const port = new URL(first.url).port;
    await startService('hardware', { MQTT_URL: first.url, DEVICE_ID: 'sim-gap' });
    await startService('engine', { MQTT_URL: first.url, ENGINE_ID: 'e-gap', DEVICE_ID: 'sim-gap' });
    const commands = [
      { type: 'pause', params: { message: 'first' } },
      { type: 'delay', params: { seconds: 0.5 } },
      { type: 'pause', params: { message: 'second' } },
      { type: 'comment', params: { message: 'end' } },
    ];
    // A lab client with a persistent session: its QoS 1 actions are kept while the broker is away.
    const lims = await connectTestClient(first.url, { clientId: 'lims-gap', clean: false });
    await lims.subscribe(['run/r-gap/status', 'run/r-gap/events']);
    await lims.publish('run/r-gap/create', { protocol: { schemaVersion: 1, metadata: { name: 'gap' }, commands } });
    await lims.publish('run/r-gap/actions', 'play');
    await lims.waitFor('run/r-gap/status', (m) => m.json().pause?.message === 'first');

    await first.kill();
    // Published while there is no broker at all: queued by the client, sent when it is back.
    lims.client.publish('run/r-gap/actions', JSON.stringify({ type: 'resume', id: 'during-the-gap' }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    await startBroker({ ...redis, BROKER_PORT: port });

    await lims.waitFor('run/r-gap/status', (m) => m.json().pause?.message === 'second', 15_000);
    await lims.publish('run/r-gap/actions', { type: 'resume', id: 'after-the-gap' });
    await lims.waitFor('run/r-gap/status', (m) => m.json().status === 'succeeded', 15_000);
    const accepted = lims
      .messages('run/r-gap/events')
      .map((m) => m.json())
      .filter((e) => e.type === 'action.accepted')
      .map((e) => e.actionId);
    expect(accepted).toEqual(expect.arrayContaining(['during-the-gap', 'after-the-gap']));
    await lims.close();
    await flushRedisDb(db);
  });
});
