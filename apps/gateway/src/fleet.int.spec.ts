// The gateway over a fleet: the real broker, two engines each serving its own device (ENGINE_DEVICES), a hardware
// service on the built-in simulator for each device, and the gateway. GET /devices and /engines say who serves
// what and what each device is doing; GET /runs filters by device and status; a create for a device nobody serves
// is 422 unknown-device, from the engines or, once the gateway knows, at once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectTestClient, startBroker, startService, stopAll, type TestClient } from '@labrun/testkit';

const eventually = <T>(check: () => Promise<T>): Promise<T> => vi.waitFor(check, { timeout: 15_000, interval: 50 });
const protocolOf = (name: string, commands: unknown[]) => ({ schemaVersion: 1, metadata: { name }, commands });

describe('the gateway over two engines and two devices', () => {
  const [d1, d2] = ['fleet-gw-d1', 'fleet-gw-d2'];
  let client: TestClient;
  let http: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(http + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    const broker = await startBroker();
    await Promise.all([
      startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: d1 }),
      startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: d2 }),
      startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'fleet-e1', ENGINE_DEVICES: d1 }),
      startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'fleet-e2', ENGINE_DEVICES: d2 }),
    ]);
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    client = await connectTestClient(broker.url);
    await client.subscribe(['run/+/create', 'run/+/events']);
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
  });

  it('lists both devices with the engine serving each and its hardware, and both engines with their devices', async () => {
    const devices = await eventually(async () => {
      const answer = await call('GET', '/devices');
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual([
        expect.objectContaining({ deviceId: d1, online: true, engineId: 'fleet-e1', standby: [], state: expect.objectContaining({ connected: true }) }),
        expect.objectContaining({ deviceId: d2, online: true, engineId: 'fleet-e2', standby: [], state: expect.objectContaining({ connected: true }) }),
      ]);
      return answer.body.data;
    });
    expect(devices[0].state.machine).toEqual(expect.any(String));
    expect((await call('GET', `/devices/${d2}`)).body.data).toMatchObject({ deviceId: d2, engineId: 'fleet-e2' });
    expect(await call('GET', '/devices/fleet-gw-nope')).toMatchObject({ status: 404, body: { error: { code: 'not-found' } } });

    const engines = await call('GET', '/engines');
    expect(engines.body.data).toEqual([
      expect.objectContaining({ engineId: 'fleet-e1', online: true, devices: [d1], standby: [], journal: expect.objectContaining({ writable: true }), onlineSince: expect.any(String) }),
      expect.objectContaining({ engineId: 'fleet-e2', online: true, devices: [d2], standby: [] }),
    ]);
  });

  it('shows each device’s current run, with its pause message, and filters GET /runs by device and status', async () => {
    const suffix = randomUUID().slice(0, 6);
    const [r1, r2] = [`fg-1-${suffix}`, `fg-2-${suffix}`];
    expect(await call('POST', '/runs', { protocol: protocolOf('On one', [{ type: 'comment', params: { message: 'hello' } }]), deviceId: d1, runId: r1 })).toMatchObject({
      status: 201,
      body: { data: { runId: r1, deviceId: d1, engineId: 'fleet-e1' } },
    });
    expect(await call('POST', '/runs', { protocol: protocolOf('On two', [{ type: 'pause', params: { message: 'Check plate 2' } }]), deviceId: d2, runId: r2 })).toMatchObject({
      status: 201,
      body: { data: { runId: r2, deviceId: d2, engineId: 'fleet-e2' } },
    });
    expect((await call('POST', `/runs/${r1}/actions`, { type: 'play' })).status).toBe(201);
    expect((await call('POST', `/runs/${r2}/actions`, { type: 'play' })).status).toBe(201);

    await eventually(async () => {
      const { body } = await call('GET', `/devices/${d2}`);
      expect(body.data.current).toMatchObject({ runId: r2, status: 'paused', engineId: 'fleet-e2', pause: { source: 'protocol', message: 'Check plate 2' } });
    });
    await eventually(async () => expect((await call('GET', `/devices/${d1}`)).body.data.current).toMatchObject({ runId: r1, status: 'succeeded' }));

    const ids = async (query: string) => (await call('GET', `/runs${query}`)).body.data.map((s: { runId: string }) => s.runId);
    expect(await ids(`?deviceId=${d1}`)).toEqual([r1]);
    expect(await ids(`?deviceId=${d2}&status=paused`)).toEqual([r2]);
    expect(await ids('?status=paused,blocked,awaiting-recovery')).toEqual([r2]);
    expect(await ids('?status=succeeded,failed')).toEqual([r1]);
    expect((await ids('')).sort()).toEqual([r1, r2].sort());
    const bad = await call('GET', '/runs?status=napping');
    expect(bad).toMatchObject({ status: 422, body: { error: { code: 'invalid-query' } } });
    expect(bad.body.error.message).toContain('expected one of idle, running, pausing, paused, blocked, awaiting-recovery, stopping, stopped, succeeded, failed');
    expect((await call('GET', '/runs?engine=fleet-e1')).status).toBe(422);

    expect((await call('POST', `/runs/${r2}/actions`, { type: 'resume' })).status).toBe(201);
    await eventually(async () => expect((await call('GET', `/devices/${d2}`)).body.data.current).toMatchObject({ runId: r2, status: 'succeeded' }));
  });

  it('answers a create for a device no engine serves 422 unknown-device: the engines’ answer while an online engine has not said what it serves', async () => {
    // An engine from before fleets: online, with no status naming its devices. The gateway cannot tell, so it asks.
    await client.publish('engine/fleet-old/online', 'true', { retain: true });
    await eventually(async () => expect((await call('GET', '/engines/fleet-old')).body.data).toMatchObject({ online: true, devices: null }));
    try {
      const runId = `fg-u-${randomUUID().slice(0, 6)}`;
      const answer = await call('POST', '/runs', { protocol: protocolOf('Nowhere', [{ type: 'home' }]), deviceId: 'nowhere', runId });
      expect(answer).toEqual({
        status: 422,
        body: { error: { code: 'unknown-device', message: `cannot create run ${runId}: no online engine serves device nowhere; the devices served now are ${d1}, ${d2}` } },
      });
      // The create went out and an engine (the leader) refused it (this test's client may hear of it after the gateway).
      await client.waitFor(`run/${runId}/events`, (m) => m.json().type === 'run.rejected' && m.json().code === 'unknown-device');
      await client.waitFor(`run/${runId}/create`);
      expect(client.messages(`run/${runId}/create`)).toHaveLength(1);
    } finally {
      await client.publish('engine/fleet-old/online', '', { retain: true });
    }
  });

  it('answers a create for a device no engine serves 422 unknown-device at once when every online engine said what it serves', async () => {
    await eventually(async () => expect((await call('GET', '/engines')).body.data.map((e: { engineId: string }) => e.engineId)).toEqual(['fleet-e1', 'fleet-e2']));
    const runId = `fg-n-${randomUUID().slice(0, 6)}`;
    const started = Date.now();
    const answer = await call('POST', '/runs', { protocol: protocolOf('Nowhere', [{ type: 'home' }]), deviceId: 'nowhere', runId });
    expect(answer).toMatchObject({
      status: 422,
      body: { error: { code: 'unknown-device', message: `cannot create run ${runId}: no online engine serves device nowhere; the devices served now are ${d1}, ${d2}` } },
    });
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.messages(`run/${runId}/create`)).toEqual([]);
  });
});
