// The labrun services behind an authenticating broker: engine, hardware and gateway log in as a `service` user
// (MQTT_USERNAME, MQTT_PASSWORD) and a run goes from create to succeeded, driven by an operator and watched by a
// viewer — whose own attempt to resume it never reaches the engine.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll, type BrokerProcess, type TestClient } from '@labrun/testkit';
import { addUser } from '@labrun/auth';

const SERVICE = { username: 'labrun-service', password: 'service-secret-1' };
const OPERATOR = { username: 'ana', password: 'operator-secret-1' };
const VIEWER = { username: 'vic', password: 'viewer-secret-1' };

describe('a run through an authenticating broker', () => {
  let dir: string;
  let broker: BrokerProcess;
  let operator: TestClient;
  let viewer: TestClient;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-broker-services-'));
    const authFile = path.join(dir, 'auth.json');
    await addUser(authFile, SERVICE.username, 'service', SERVICE.password);
    await addUser(authFile, OPERATOR.username, 'operator', OPERATOR.password);
    await addUser(authFile, VIEWER.username, 'viewer', VIEWER.password);
    broker = await startBroker({ LABRUN_AUTH_FILE: authFile });
    const login = { MQTT_URL: broker.url, MQTT_USERNAME: SERVICE.username, MQTT_PASSWORD: SERVICE.password };
    await startService('hardware', { ...login, DEVICE_ID: 'auth-sim' });
    await startService('engine', { ...login, ENGINE_ID: 'auth-engine', DEVICE_ID: 'auth-sim' });
    await startService('gateway', { ...login, HTTP_PORT: '0', GATEWAY_ID: 'auth-gateway' });
    operator = await connectTestClient(broker.url, OPERATOR);
    viewer = await connectTestClient(broker.url, VIEWER);
  }, 120_000);

  afterAll(async () => {
    await operator?.close();
    await viewer?.close();
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const statusWhere = async (runId: string, predicate: (s: RunStatusDocument) => boolean): Promise<RunStatusDocument> =>
    (await viewer.waitFor(`run/${runId}/status`, (m) => m.text !== '' && predicate(m.json()), 30_000)).json();

  it('is created and resumed by the operator, and only the operator', { timeout: 120_000 }, async () => {
    const runId = 'r-auth-1';
    await viewer.subscribe([`run/${runId}/status`, `run/${runId}/events`, 'hw/+/online', 'engine/+/online', 'gateway/+/online']);
    await viewer.waitFor('engine/auth-engine/online', (m) => m.text === 'true');
    await viewer.waitFor('hw/auth-sim/online', (m) => m.text === 'true');
    await viewer.waitFor('gateway/auth-gateway/online', (m) => m.text === 'true');

    await operator.publish(`run/${runId}/create`, {
      protocol: {
        schemaVersion: 1,
        metadata: { name: 'behind the broker' },
        commands: [
          { type: 'home' },
          { type: 'move', params: { x: 2, y: 1, feed: 6000 } },
          { type: 'pause', params: { message: 'Check the samples' } },
          { type: 'comment', params: { message: 'Done' } },
        ],
      },
    });
    await statusWhere(runId, (s) => s.status === 'idle');
    await operator.publish(`run/${runId}/actions`, { type: 'play', id: 'operator-play', by: 'ana' });
    const paused = await statusWhere(runId, (s) => s.status === 'paused');
    expect(paused.pause).toMatchObject({ source: 'protocol', message: 'Check the samples' });

    // The viewer tries: the broker acknowledges and discards it, the engine never hears of it.
    await viewer.publish(`run/${runId}/actions`, { type: 'resume', id: 'viewer-resume', by: 'vic' });
    await broker.waitFor(/warn refused a publish .*user=vic role=viewer topic=run\/r-auth-1\/actions/);

    await operator.publish(`run/${runId}/actions`, { type: 'resume', id: 'operator-resume', by: 'ana' });
    const done = await statusWhere(runId, (s) => s.status === 'succeeded');
    expect(done.progress).toEqual({ completed: 4, total: 4 });

    const events: RunEvent[] = viewer.messages(`run/${runId}/events`).map((m) => m.json());
    const actions = events.filter((e) => e.type === 'action.accepted' || e.type === 'action.rejected').map((e) => (e as { actionId: string }).actionId);
    expect(actions).toEqual(['operator-play', 'operator-resume']);
  });

  it('gives the services every topic they use: the broker refused them nothing', () => {
    const refusals = broker
      .output()
      .split('\n')
      .filter((line) => / refused /.test(line) && line.includes(`user=${SERVICE.username}`));
    expect(refusals).toEqual([]);
  });
});
