// Prometheus metrics end to end: the real broker, engine (METRICS_PORT on an ephemeral port), hardware simulator
// and gateway. A run pauses itself, is played and resumed by two kinds of client, and both /metrics say so —
// in text that `promtool check metrics` accepts without a word.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectTestClient, metricSample, promtoolAvailable, promtoolCheck, startBroker, startService, stopAll, type TestClient } from '@labrun/testkit';

const deviceId = 'metrics-sim-1';
const engineId = 'metrics-engine-1';

const eventually = <T>(check: () => Promise<T>): Promise<T> => vi.waitFor(check, { timeout: 10_000, interval: 50 });

async function scrape(url: string): Promise<{ contentType: string | null; text: string }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return { contentType: response.headers.get('content-type'), text: await response.text() };
}

describe('Prometheus metrics, with the real services', () => {
  let client: TestClient;
  let http: string;
  let engineMetrics: string;
  let dataDir: string;
  const runId = `metrics-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'labrun-metrics-it-'));
    const broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: deviceId });
    const engine = await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: engineId, DEVICE_ID: deviceId, LABRUN_DATA_DIR: dataDir, METRICS_PORT: '0' });
    engineMetrics = (await engine.waitFor(/metrics listening http=(\S+)/))[1]!;
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    client = await connectTestClient(broker.url);
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
    await eventually(async () => {
      const health = await (await fetch(`${http}/healthz`)).json();
      expect(health).toMatchObject({ engines: { [engineId]: true }, devices: { [deviceId]: { online: true } } });
    });
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('counts a run that paused itself, times the actions that played and resumed it, and both outputs pass promtool', async () => {
    const protocol = {
      schemaVersion: 1,
      metadata: { name: 'metrics' },
      commands: [
        { type: 'pause', params: { message: 'Check the samples' } },
        { type: 'comment', params: { message: 'done' } },
      ],
    };
    const created = await fetch(`${http}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol, deviceId, runId }) });
    expect(created.status).toBe(201);

    // A bare word from an MQTT client: the engine makes up its id, the gateway matches it by run and type.
    await client.publish(`run/${runId}/actions`, 'play');
    await client.waitFor(`run/${runId}/status`, (m) => m.json().status === 'paused');
    const paused = await eventually(async () => {
      const { contentType, text } = await scrape(`${http}/metrics`);
      expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(metricSample(text, 'labrun_runs{status="paused"}')).toBe(1);
      expect(metricSample(text, 'labrun_action_response_seconds_count{type="play"}')).toBe(1);
      return text;
    });
    expect(metricSample(paused, 'labrun_runs{status="running"}')).toBe(0);
    expect(metricSample(paused, 'labrun_actions_total{type="play",result="accepted"}')).toBe(1);
    expect(metricSample(paused, 'labrun_action_response_seconds_sum{type="play"}')).toBeGreaterThan(0);
    expect(metricSample(paused, 'labrun_action_response_seconds_sum{type="play"}')).toBeLessThan(5);
    expect(metricSample(paused, 'labrun_devices_online')).toBe(1);
    expect(metricSample(paused, `labrun_device_online{device="${deviceId}"}`)).toBe(1);
    expect(metricSample(paused, 'labrun_paused_seconds_total')).toBe(0);
    expect(paused).not.toContain(runId);

    // Resumed over HTTP (the gateway gives it an id), then refused once the run has finished.
    const resumed = await fetch(`${http}/runs/${runId}/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'resume' }) });
    expect(resumed.status).toBe(201);
    await client.waitFor(`run/${runId}/status`, (m) => m.json().status === 'succeeded');
    await client.publish(`run/${runId}/actions`, { type: 'resume', id: 'late-resume' });
    await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'late-resume');
    const finished = await eventually(async () => {
      const { text } = await scrape(`${http}/metrics`);
      expect(metricSample(text, 'labrun_action_response_seconds_count{type="resume"}')).toBe(2);
      return text;
    });
    expect(metricSample(finished, 'labrun_runs{status="paused"}')).toBe(0);
    expect(metricSample(finished, 'labrun_runs{status="succeeded"}')).toBe(1);
    expect(metricSample(finished, 'labrun_actions_total{type="resume",result="accepted"}')).toBe(1);
    expect(metricSample(finished, 'labrun_actions_total{type="resume",result="rejected",code="run-finished"}')).toBe(1);
    expect(metricSample(finished, 'labrun_paused_seconds_total')).toBeGreaterThan(0);
    expect(metricSample(finished, 'labrun_actions_unanswered_total')).toBe(0);

    const engine = await scrape(engineMetrics);
    expect(engine.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metricSample(engine.text, 'labrun_engine_journal_fsync_seconds_count')).toBeGreaterThan(0);
    expect(metricSample(engine.text, 'labrun_engine_events_total')).toBeGreaterThanOrEqual(6); // created, play, started, resume, succeeded ×2 …
    expect(metricSample(engine.text, 'labrun_engine_runs{status="succeeded"}')).toBe(1);
    expect(metricSample(engine.text, 'labrun_engine_actions_total{type="play",result="accepted"}')).toBe(1);
    expect(metricSample(engine.text, 'labrun_engine_actions_total{type="resume",result="rejected",code="run-finished"}')).toBe(1);
    expect(engine.text).toMatch(/^labrun_engine_process_cpu_seconds_total /m);

    if (!promtoolAvailable()) return;
    expect(await promtoolCheck(finished)).toEqual({ code: 0, problems: [] });
    expect(await promtoolCheck(engine.text)).toEqual({ code: 0, problems: [] });
  });
});
