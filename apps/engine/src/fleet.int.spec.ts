// Several engines on one broker: each carries out the runs of the devices it serves (ENGINE_DEVICES) and no other,
// what no engine serves or holds is answered exactly once, a second claimant for a device stands by until the first
// is gone, and device/<id>/current follows each device's run. Real engine processes on labrun's broker.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineStatus, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll, type ServiceProcess, type TestClient } from '@labrun/testkit';

const protocol = (name: string, commands: unknown[] = [{ type: 'comment', params: { message: 'hello' } }]) => ({ schemaVersion: 1, metadata: { name }, commands });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a fleet of engines on one broker', () => {
  const suffix = randomUUID().slice(0, 6);
  const [d1, d2] = [`fleet-a-${suffix}`, `fleet-b-${suffix}`];
  let url: string;
  let client: TestClient;
  let e1: ServiceProcess;

  beforeAll(async () => {
    url = (await startBroker()).url;
    client = await connectTestClient(url);
    await client.subscribe(['run/+/events', 'run/+/status', 'engine/+/status', 'device/+/current']);
    e1 = await startService('engine', { MQTT_URL: url, ENGINE_ID: 'e1', DEVICE_ID: d1 });
    await startService('engine', { MQTT_URL: url, ENGINE_ID: 'e2', ENGINE_DEVICES: d2 });
    await engineStatus('e2', (s) => s.devices?.includes(d2) === true);
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
  });

  const engineStatus = async (engineId: string, predicate: (s: EngineStatus) => boolean): Promise<EngineStatus> =>
    (await client.waitFor(`engine/${engineId}/status`, (m) => m.text !== '' && predicate(m.json()), 15_000)).json();
  const status = async (runId: string, predicate: (s: RunStatusDocument) => boolean): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && predicate(m.json()), 15_000)).json();
  const events = (runId: string): RunEvent[] => client.messages(`run/${runId}/events`).map((m) => m.json());

  it('announces the devices each engine serves, and carries out each run on the engine serving its device, once', async () => {
    expect(await engineStatus('e1', (s) => s.devices !== undefined)).toMatchObject({ devices: [d1], standby: [] });
    const runs = [
      { runId: `fa-${suffix}`, deviceId: d1, engineId: 'e1' },
      { runId: `fb-${suffix}`, deviceId: d2, engineId: 'e2' },
    ];
    for (const { runId, deviceId } of runs) {
      await client.publish(`run/${runId}/create`, { protocol: protocol(runId), deviceId });
      await client.publish(`run/${runId}/actions`, { type: 'play', id: `play-${runId}` });
    }
    for (const { runId, engineId, deviceId } of runs) {
      expect(await status(runId, (s) => s.status === 'succeeded')).toMatchObject({ engineId, deviceId });
      await sleep(300); // time for a second engine's answer, were there one
      const seen = events(runId);
      expect(seen.filter((e) => e.type === 'run.created')).toHaveLength(1);
      expect(seen.filter((e) => e.type === 'command.started')).toHaveLength(1);
      expect(seen.filter((e) => e.type === 'action.accepted')).toHaveLength(1);
    }
  });

  it('answers a create for a device no engine serves once, within a second, with unknown-device', async () => {
    const runId = `fu-${suffix}`;
    const sent = Date.now();
    await client.publish(`run/${runId}/create`, { protocol: protocol('nobody'), deviceId: 'robot-nowhere' });
    const rejected = (await client.waitFor(`run/${runId}/events`, () => true, 5000)).json() as RunEvent;
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(rejected).toMatchObject({
      type: 'run.rejected',
      code: 'unknown-device',
      message: expect.stringContaining(`no online engine serves device robot-nowhere; the devices served now are ${[d1, d2].sort().join(', ')}`),
    });
    await sleep(1000);
    expect(events(runId)).toHaveLength(1);
  });

  it('answers an action on a run no engine has once, within a second, with unknown-run', async () => {
    const runId = `fn-${suffix}`;
    const sent = Date.now();
    await client.publish(`run/${runId}/actions`, { type: 'resume', id: 'nobody-has-it' });
    const rejected = (await client.waitFor(`run/${runId}/events`, () => true, 5000)).json() as RunEvent;
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(rejected).toMatchObject({ type: 'action.rejected', code: 'unknown-run', actionId: 'nobody-has-it' });
    await sleep(1000);
    expect(events(runId)).toHaveLength(1);
  });

  it('publishes the current run of each device, retained, on device/<id>/current', async () => {
    const runId = `fc-${suffix}`;
    await client.publish(`run/${runId}/create`, { protocol: protocol('current', [{ type: 'pause', params: { message: 'Check the samples' } }]), deviceId: d2 });
    await client.publish(`run/${runId}/actions`, 'play');
    await status(runId, (s) => s.status === 'paused');
    const fresh = await connectTestClient(url);
    try {
      await fresh.subscribe(`device/${d2}/current`);
      const current = await fresh.waitFor(`device/${d2}/current`, (m) => m.json().runId === runId);
      expect(current.retain).toBe(true);
      expect(current.json()).toMatchObject({ runId, deviceId: d2, engineId: 'e2', status: 'paused', pause: { source: 'protocol', message: 'Check the samples' } });
    } finally {
      await fresh.close();
    }
    await client.publish(`run/${runId}/actions`, 'resume');
    await client.waitFor(`device/${d2}/current`, (m) => m.json().runId === runId && m.json().status === 'succeeded');
  });

  it('a second engine claiming a served device stands by, carries out none of its runs, and takes it over once the first is gone', async () => {
    const e3 = await startService('engine', { MQTT_URL: url, ENGINE_ID: 'e0-claimant', ENGINE_DEVICES: d1 });
    await e3.waitFor(new RegExp(`error refusing to serve device ${d1}: engine e1 serves it`));
    expect(await engineStatus('e0-claimant', (s) => s.standby !== undefined && s.standby.length > 0)).toMatchObject({ devices: [], standby: [{ deviceId: d1, servedBy: 'e1' }] });
    // e0-claimant has the lowest id: it answers for the fleet, but d1's runs stay e1's.
    const runId = `fs-${suffix}`;
    await client.publish(`run/${runId}/create`, { protocol: protocol('claimed'), deviceId: d1 });
    await client.publish(`run/${runId}/actions`, 'play');
    expect(await status(runId, (s) => s.status === 'succeeded')).toMatchObject({ engineId: 'e1' });
    await sleep(300);
    expect(events(runId).filter((e) => e.type === 'command.started')).toHaveLength(1);

    await e1.kill(); // its will says it is offline
    await e3.waitFor(new RegExp(`warn engine e1 is offline: taking over device ${d1}`));
    await engineStatus('e0-claimant', (s) => s.devices?.includes(d1) === true);
    const after = `ft-${suffix}`;
    await client.publish(`run/${after}/create`, { protocol: protocol('taken over'), deviceId: d1 });
    await client.publish(`run/${after}/actions`, 'play');
    expect(await status(after, (s) => s.status === 'succeeded')).toMatchObject({ engineId: 'e0-claimant' });
  });
});
