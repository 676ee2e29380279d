// End to end: the real broker, engine, hardware simulator and gateway processes on ephemeral ports. Runs are
// created over MQTT, as any client would, and the gateway's HTTP API is read with fetch.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEntry, connectTestClient, startBroker, startProcess, startService, stopAll, type BrokerProcess, type TestClient } from '@labrun/testkit';

const deviceId = 'gw-sim-1';
const engineId = 'gw-engine-1';

/** Retry `check` until it stops throwing: the gateway learns of each change a moment after the broker does. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('the gateway, with the real services', () => {
  let broker: BrokerProcess;
  let client: TestClient;
  let http: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'labrun-gateway-it-'));
    broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: deviceId });
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: engineId, DEVICE_ID: deviceId, LABRUN_DATA_DIR: dataDir });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    client = await connectTestClient(broker.url);
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(http + path, init);
    return { status: response.status, body: (await response.json()) as any };
  };

  it('reports the broker, the engine and the device online in /healthz', async () => {
    const health = await eventually(async () => {
      const answer = await get('/healthz');
      expect(answer).toMatchObject({ status: 200, body: { broker: true, engines: { [engineId]: true }, devices: { [deviceId]: { online: true } } } });
      return answer.body;
    });
    expect(health.devices[deviceId].state).toMatchObject({ connected: true, machine: 'Idle', door: 'closed' });
  });

  it('shows a run created over MQTT in /runs and /runs/:id, with its live status', async () => {
    const runId = `gw-${randomUUID().slice(0, 8)}`;
    const protocol = { schemaVersion: 1, metadata: { name: 'gateway check' }, commands: [{ type: 'home' }, { type: 'pause', params: { message: 'Check the samples' } }] };
    await client.publish(`run/${runId}/create`, { protocol });
    const idle = await eventually(async () => {
      const answer = await get(`/runs/${runId}`);
      expect(answer).toMatchObject({ status: 200, body: { data: { runId, status: 'idle', name: 'gateway check', deviceId } } });
      return answer.body.data;
    });
    expect((await get('/runs')).body.data).toContainEqual(idle);

    await client.publish(`run/${runId}/actions`, 'play');
    const paused = await eventually(async () => {
      const answer = await get(`/runs/${runId}`);
      expect(answer.body.data).toMatchObject({ status: 'paused', pause: { source: 'protocol', message: 'Check the samples' }, progress: { completed: 1, total: 2 } });
      return answer.body.data;
    });
    expect((await get('/runs')).body.data.find((s: { runId: string }) => s.runId === runId)).toEqual(paused);

    await client.publish(`run/${runId}/actions`, 'resume');
    await eventually(async () => expect((await get(`/runs/${runId}`)).body.data.status).toBe('succeeded'));

    // Deleting the retained status (as an operator cleaning the broker would) removes the run from the gateway.
    await client.publish(`run/${runId}/status`, '', { retain: true });
    await eventually(async () => expect((await get(`/runs/${runId}`)).status).toBe(404));
  });

  it('answers 404 for an unknown run and an unknown route, and 405 for a wrong method, all as JSON', async () => {
    expect(await get('/runs/r-nope')).toEqual({ status: 404, body: { error: { code: 'not-found', message: 'no run r-nope' } } });
    expect(await get('/dashboard/nope')).toEqual({ status: 404, body: { error: { code: 'not-found', message: 'no such endpoint: GET /dashboard/nope' } } });
    expect(await get('/healthz', { method: 'DELETE' })).toMatchObject({ status: 405, body: { error: { code: 'method-not-allowed' } } });
  });

  it('exits 1 with a message naming HTTP_PORT when the port is taken', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const gateway = startProcess('gateway (busy port)', appEntry('gateway'), { MQTT_URL: broker.url, HTTP_PORT: String(port) });
      expect(await gateway.exited()).toBe(1);
      expect(gateway.output()).toContain(`cannot listen for HTTP on 127.0.0.1:${port}: port ${port} on 127.0.0.1 is already in use`);
      expect(gateway.output()).toContain('HTTP_PORT=<n>');
      expect(gateway.output()).not.toMatch(/ ready( |$)/m);
    } finally {
      squatter.close();
    }
  });

  it('answers /healthz 503 once the broker is gone', async () => {
    await broker.stop();
    await eventually(async () => expect(await get('/healthz')).toMatchObject({ status: 503, body: { broker: false } }));
  });
});
