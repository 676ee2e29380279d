// The gateway's /metrics, over a real node:http server in this process and a cache fed as the broker feeds it:
// what each metric says after given messages, that the text passes `promtool check metrics`, and who may read it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '@labrun/auth';
import { metricSample, promtoolAvailable, promtoolCheck, statusDocument } from '@labrun/testkit';
import { BrokerCache } from './broker-cache.js';
import { createRequestListener } from './http-api.js';
import { GatewayAuth } from './http-auth.js';
import { GatewayMetrics } from './metrics.js';
import { RunRequests } from './run-requests.js';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const at = (seconds: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, seconds)).toISOString();
const answer = (runId: string, actionId: string, action: string | null, code?: string) =>
  bytes(
    code === undefined
      ? { runId, seq: 3, at: at(0), type: 'action.accepted', actionId, action, by: null, message: null, mode: null }
      : { runId, seq: 0, at: at(0), type: 'action.rejected', actionId, action, code, message: 'refused' },
  );

function gatewayWithMetrics() {
  const cache = new BrokerCache();
  const clocks = { monotonic: 0, wall: Date.parse(at(0)) };
  const metrics = new GatewayMetrics(cache, () => true, { monotonic: () => clocks.monotonic, wall: () => clocks.wall });
  return { cache, clocks, metrics };
}

describe('GatewayMetrics', () => {
  it('counts the runs in each status from their retained statuses, every status present', async () => {
    const { cache, metrics } = gatewayWithMetrics();
    cache.receive('run/r-1/status', bytes(statusDocument('r-1', { status: 'paused', updatedAt: at(0) })));
    cache.receive('run/r-2/status', bytes(statusDocument('r-2', { status: 'running' })));
    cache.receive('run/r-3/status', bytes(statusDocument('r-3', { status: 'running' })));
    cache.receive('run/r-3/status', bytes('')); // forgotten
    const text = await metrics.scrape();
    expect(metricSample(text, 'labrun_runs{status="paused"}')).toBe(1);
    expect(metricSample(text, 'labrun_runs{status="running"}')).toBe(1);
    expect(metricSample(text, 'labrun_runs{status="failed"}')).toBe(0);
    expect(text.match(/^labrun_runs\{/gm)).toHaveLength(10);
    expect(text).not.toContain('r-1');
  });

  it('times how long runs wait: the longest wait now, and the seconds of waits that ended', async () => {
    const { cache, clocks, metrics } = gatewayWithMetrics();
    cache.receive('run/r-1/status', bytes(statusDocument('r-1', { status: 'running', updatedAt: at(0) })));
    cache.receive('run/r-1/status', bytes(statusDocument('r-1', { status: 'paused', updatedAt: at(2) })));
    clocks.wall = Date.parse(at(9));
    expect(metricSample(await metrics.scrape(), 'labrun_oldest_pause_seconds')).toBe(7);
    cache.receive('run/r-1/status', bytes(statusDocument('r-1', { status: 'running', updatedAt: at(12) })));
    const text = await metrics.scrape();
    expect(metricSample(text, 'labrun_oldest_pause_seconds')).toBe(0);
    expect(metricSample(text, 'labrun_paused_seconds_total')).toBe(10);
  });

  it('counts devices whose hardware service is online, and each device known by name', async () => {
    const { cache, metrics } = gatewayWithMetrics();
    cache.receive('hw/sim-1/online', bytes('true'));
    cache.receive('hw/sim-2/online', bytes('false'));
    cache.receive('run/r-1/status', bytes(statusDocument('r-1', { deviceId: 'sim-3' })));
    const text = await metrics.scrape();
    expect(metricSample(text, 'labrun_devices_online')).toBe(1);
    expect(metricSample(text, 'labrun_device_online{device="sim-1"}')).toBe(1);
    expect(metricSample(text, 'labrun_device_online{device="sim-2"}')).toBe(0);
    expect(metricSample(text, 'labrun_device_online{device="sim-3"}')).toBe(0);
  });

  it('counts answers by type and result (a rejection by a code from the contract), and times the actions it saw', async () => {
    const { cache, clocks, metrics } = gatewayWithMetrics();
    clocks.monotonic = 1000;
    expect(metrics.receiveAction('run/r-1/actions', bytes('resume'), false)).toBe(true);
    expect(metrics.receiveAction('run/r-1/actions', bytes({ type: 'pause', id: 'p-1' }), false)).toBe(true);
    expect(metrics.receiveAction('run/r-1/status', bytes('{}'), false)).toBe(false);
    clocks.monotonic = 1003;
    cache.receive('run/r-1/events', answer('r-1', 'made-up', 'resume'));
    clocks.monotonic = 1500;
    cache.receive('run/r-1/events', answer('r-1', 'p-1', 'pause', 'not-paused'));
    cache.receive('run/r-1/events', answer('r-1', 'x', null, 'something-new')); // never seen: counted, not timed
    const text = await metrics.scrape();
    expect(metricSample(text, 'labrun_actions_total{type="resume",result="accepted"}')).toBe(1);
    expect(metricSample(text, 'labrun_actions_total{type="pause",result="rejected",code="not-paused"}')).toBe(1);
    expect(metricSample(text, 'labrun_actions_total{type="invalid",result="rejected",code="other"}')).toBe(1);
    expect(metricSample(text, 'labrun_action_response_seconds_count{type="resume"}')).toBe(1);
    expect(metricSample(text, 'labrun_action_response_seconds_bucket{le="0.0025",type="resume"}')).toBe(0);
    expect(metricSample(text, 'labrun_action_response_seconds_bucket{le="0.005",type="resume"}')).toBe(1);
    expect(metricSample(text, 'labrun_action_response_seconds_sum{type="pause"}')).toBe(0.5);
    expect(metricSample(text, 'labrun_action_response_seconds_count{type="invalid"}')).toBeUndefined();
  });

  it('ignores retained actions (old ones a broker kept) and counts actions nobody answered within a minute', async () => {
    const { clocks, metrics } = gatewayWithMetrics();
    metrics.receiveAction('run/r-1/actions', bytes('resume'), true);
    metrics.receiveAction('run/r-1/actions', bytes('stop'), false);
    clocks.monotonic = 61_000;
    const text = await metrics.scrape();
    expect(metricSample(text, 'labrun_actions_unanswered_total')).toBe(1);
  });

  it('names the process metrics after the gateway, and passes promtool check metrics with no problem at all', async (ctx) => {
    const { cache, metrics } = gatewayWithMetrics();
    cache.receive('run/r-1/status', bytes(statusDocument('r-1', { status: 'paused' })));
    metrics.receiveAction('run/r-1/actions', bytes('resume'), false);
    cache.receive('run/r-1/events', answer('r-1', 'a', 'resume'));
    const text = await metrics.scrape();
    expect(text).toMatch(/^labrun_gateway_process_cpu_seconds_total /m);
    expect(text).toMatch(/^labrun_gateway_nodejs_eventloop_lag_seconds /m);
    if (!promtoolAvailable()) return ctx.skip();
    expect(await promtoolCheck(text)).toEqual({ code: 0, problems: [] });
  });
});

describe('GET /metrics', () => {
  const cache = new BrokerCache();
  const metrics = new GatewayMetrics(cache, () => true);
  const requests = new RunRequests(cache, async () => {});
  const dashboard = new Map();
  let dir: string;
  let auth: GatewayAuth;
  let open: Server;
  let guarded: Server;
  const bases: Record<'open' | 'guarded', string> = { open: '', guarded: '' };
  let viewerToken = '';

  const serve = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-gateway-metrics-'));
    const file = path.join(dir, 'auth.json');
    viewerToken = (await addToken(file, 'prometheus', 'viewer', { user: 'prometheus' })).token;
    auth = await GatewayAuth.open(file);
    open = createServer(createRequestListener({ cache, brokerConnected: () => true, requests, dashboard, examplesDir: '/nonexistent', metrics }));
    guarded = createServer(createRequestListener({ cache, brokerConnected: () => true, requests, dashboard, examplesDir: '/nonexistent', metrics, auth }));
    bases.open = await serve(open);
    bases.guarded = await serve(guarded);
    cache.receive('run/r-1/status', bytes(statusDocument('r-1', { status: 'paused' })));
  });
  afterAll(async () => {
    auth.close();
    await Promise.all([open, guarded].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers in the Prometheus text format, with its content type', async () => {
    const response = await fetch(`${bases.open}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(metricSample(await response.text(), 'labrun_runs{status="paused"}')).toBe(1);
  });

  it('with an auth file, wants a token of any role, as every read endpoint does', async () => {
    expect((await fetch(`${bases.guarded}/metrics`)).status).toBe(401);
    const response = await fetch(`${bases.guarded}/metrics`, { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('labrun_runs{status="paused"} 1');
  });

  it('is 404 from a gateway started without metrics', async () => {
    const bare = createServer(createRequestListener({ cache, brokerConnected: () => true, requests, dashboard, examplesDir: '/nonexistent' }));
    const base = await serve(bare);
    try {
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
    } finally {
      await new Promise<void>((resolve) => bare.close(() => resolve()));
    }
  });
});
