// Unit tests of the HTTP API over a real node:http server in this process, fed by a cache filled by hand and
// an "engine" that answers creates and actions by feeding the cache, as the real one does over MQTT.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusDocument as statusOf } from '@labrun/testkit';
import { BrokerCache } from './broker-cache.js';
import { createRequestListener } from './http-api.js';
import { RunRequests } from './run-requests.js';
import { openSse } from './sse.spec-helpers.js';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const protocol = { schemaVersion: 1, metadata: { name: 'p' }, commands: [{ type: 'home' }, { type: 'comment', params: { message: 'Done' } }] };

describe('the HTTP API', () => {
  const cache = new BrokerCache();
  let connected = true;
  let server: Server;
  let base: string;
  const published: string[] = [];
  // The engine: a create makes an idle run; an action is accepted, unless `refusal` says how the engine refuses it.
  let refusal: { code: string; message: string } | null = null;
  const requests = new RunRequests(cache, async (topic, payload) => {
    published.push(topic);
    const runId = topic.split('/')[1]!;
    const body = JSON.parse(payload);
    const at = '2026-11-24T10:00:01.000Z';
    const answer = refusal
      ? { runId, seq: 0, at, type: 'action.rejected', actionId: body.id, action: body.type, ...refusal }
      : { runId, seq: 2, at, type: 'action.accepted', actionId: body.id, action: body.type, by: body.by ?? null, message: null, mode: null };
    setImmediate(() => {
      if (topic.endsWith('/create')) cache.receive(`run/${runId}/status`, bytes(statusOf(runId, { name: body.protocol.metadata.name })));
      else cache.receive(`run/${runId}/events`, bytes(answer));
    });
  });

  beforeAll(async () => {
    const dashboard = new Map([['/', { body: Buffer.from('<!doctype html><title>labrun</title>'), contentType: 'text/html; charset=utf-8' }]]);
    let next = 0;
    const newRunId = () => ['r-1', 'r-1', 'r-new'][next++] ?? 'r-last';
    server = createServer(createRequestListener({ cache, brokerConnected: () => connected, requests, dashboard, examplesDir: '/nonexistent', newRunId }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cache.receive('run/r-1/status', bytes(statusOf('r-1')));
    cache.receive('run/r 2/status', bytes(statusOf('r 2', { createdAt: '2026-11-24T12:00:00.000Z' })));
    cache.receive('engine/engine-1/online', Buffer.from('true'));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(base + path, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    // A Uint8Array body, so fetch adds no content type of its own (it adds text/plain to a string).
    call(path, { method: 'POST', headers, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) });

  it('answers /healthz 200 while the broker is connected, and 503 when it is not', async () => {
    connected = true;
    expect(await call('/healthz')).toMatchObject({ status: 200, body: { broker: true, engines: { 'engine-1': true }, devices: {} } });
    connected = false;
    expect(await call('/healthz')).toMatchObject({ status: 503, body: { broker: false } });
    connected = true;
  });

  it('lists runs as { data: [...] } and serves one run, its id percent-decoded', async () => {
    const list = await call('/runs');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(list.body.data.map((s: { runId: string }) => s.runId)).toEqual(['r-1', 'r 2']);
    expect(await call('/runs/r-1')).toEqual(expect.objectContaining({ status: 200, body: { data: statusOf('r-1') } }));
    expect((await call('/runs/r%202/')).body.data.runId).toBe('r 2');
  });

  it('answers an unknown run, an unknown route and a malformed path with JSON errors', async () => {
    expect(await call('/runs/r-404')).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: 'no run r-404' } } });
    expect(await call('/nope?x=1')).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: 'no such endpoint: GET /nope' } } });
    expect(await call('/runs/%E0%A4%A')).toMatchObject({ status: 400, body: { error: { code: 'bad-request' } } });
  });

  it('answers a method the route does not take with 405 and an Allow header', async () => {
    const response = await call('/runs/r-1', { method: 'DELETE' });
    expect(response).toMatchObject({ status: 405, body: { error: { code: 'method-not-allowed', message: 'DELETE is not allowed on /runs/r-1; use GET or HEAD' } } });
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect((await call('/runs', { method: 'PUT' })).headers.get('allow')).toBe('GET, POST, HEAD');
  });

  it('answers HEAD like GET, without a body', async () => {
    const response = await call('/runs', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.body).toBeUndefined();
  });

  it('creates a run under a fresh id (never one a known run has) and answers 201 with its status', async () => {
    const created = await post('/runs', protocol);
    expect(created).toMatchObject({ status: 201, body: { data: { runId: 'r-new', status: 'idle', name: 'p' } } });
    expect(created.headers.get('location')).toBe('/runs/r-new');
    expect(published).toContain('run/r-new/create');
  });

  it('takes a JSON body without a content type, and a +json one, but nothing else', async () => {
    expect((await post('/runs/r-1/actions', { type: 'play' }, {})).status).toBe(201);
    expect((await post('/runs/r-1/actions', { type: 'play' }, { 'content-type': 'application/vnd.labrun+json; charset=utf-8' })).status).toBe(201);
    expect(await post('/runs/r-1/actions', { type: 'play' }, { 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported-media-type', message: 'the body must be JSON, sent with content-type: application/json (it was text/plain)' } },
    });
  });

  it('refuses JSON that is too deep or carries __proto__, as the MQTT boundary does', async () => {
    expect(await post('/runs/r-1/actions', '[[[[[[[[[[[]]]]]]]]]]]')).toMatchObject({ status: 400, body: { error: { message: 'the body is nested deeper than 8 levels' } } });
    expect(await post('/runs/r-1/actions', '{"__proto__": {"type": "stop"}}')).toMatchObject({ status: 400, body: { error: { message: 'the body contains a "__proto__" key' } } });
  });

  it('answers a create or an action 503 while the broker is not connected, without publishing', async () => {
    connected = false;
    const before = published.length;
    try {
      expect(await post('/runs', protocol)).toMatchObject({ status: 503, body: { error: { code: 'broker-unavailable' } } });
      const action = await post('/runs/r-1/actions', { type: 'play' });
      expect(action).toMatchObject({ status: 503, body: { error: { code: 'broker-unavailable' } } });
      expect(action.headers.get('retry-after')).toBe('2');
    } finally {
      connected = true;
    }
    expect(published.length).toBe(before);
  });

  it('sends the recovery actions, retry, skip, home and unlock, and answers 201 with the engine’s acceptance', async () => {
    for (const type of ['retry', 'skip', 'home', 'unlock']) {
      expect(await post('/runs/r-1/actions', { type, id: `a-${type}`, by: 'ana' })).toMatchObject({ status: 201, body: { data: { id: `a-${type}`, type, by: 'ana' } } });
    }
  });

  it.each([
    ['retry', 'not-awaiting-recovery', 'cannot retry run r-1: no command failed; retry is for a run awaiting recovery'],
    ['retry', 'needs-home', 'cannot retry run r-1: the controller lost its position; home it first'],
    ['resume', 'awaiting-recovery', 'cannot resume run r-1: it awaits recovery from a failed command: retry, skip or stop it'],
    ['unlock', 'fixit-in-progress', 'cannot unlock run r-1: a home is in progress'],
    ['home', 'interlock-active', 'cannot home run r-1: the door is open'],
  ])('answers a %s the engine refuses with %s as 409 with its code, message and the action’s id', async (type, code, message) => {
    refusal = { code, message };
    try {
      const answer = await post('/runs/r-1/actions', { type, id: `a-${code}` });
      expect(answer).toMatchObject({ status: 409, body: { error: { code, message, actionId: `a-${code}` } } });
    } finally {
      refusal = null;
    }
  });

  it('names every action type, the recovery ones too, when a body is not an action', async () => {
    const answer = await post('/runs/r-1/actions', { type: 'fly' });
    expect(answer).toMatchObject({ status: 422, body: { error: { code: 'invalid-action' } } });
    expect(answer.body.error.message).toMatch(/^the body is not an action, \{ "type": "play" \| "pause" \| "resume" \| "stop" \| "skip-delay" \| "retry" \| "skip" \| "home" \| "unlock", /);
  });

  it('lists no examples when the examples folder is not there', async () => {
    expect(await call('/examples')).toMatchObject({ status: 200, body: { data: [] } });
  });

  it('serves the dashboard page with a content security policy', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await response.text()).toContain('<title>labrun</title>');
    expect((await call('/dashboard.css')).status).toBe(404); // only the files the dashboard has are served
  });
});

describe('the HTTP API, for a fleet', () => {
  const cache = new BrokerCache();
  let server: Server;
  let base: string;
  const published: string[] = [];
  // The engine: a create for a device it serves makes an idle run; else, after a moment, unknown-device.
  const requests = new RunRequests(
    cache,
    async (topic, payload) => {
      published.push(topic);
      const runId = topic.split('/')[1]!;
      const body = JSON.parse(payload);
      setTimeout(() => {
        if (body.deviceId === 'd-1' || body.deviceId === 'd-2') cache.receive(`run/${runId}/status`, bytes(statusOf(runId, { deviceId: body.deviceId })));
        else
          cache.receive(
            `run/${runId}/events`,
            bytes({ runId, seq: 0, at: '2026-11-24T10:00:01.000Z', type: 'run.rejected', code: 'unknown-device', message: `cannot create run ${runId}: from the engine` }),
          );
      }, 200);
    },
    2000,
  );
  const engineStatus = (engineId: string, devices?: string[]) => ({
    engineId,
    ...(devices ? { devices, standby: [], onlineSince: '2026-11-24T08:00:00.000Z' } : {}),
    journal: { writable: true, error: null, since: '2026-11-24T09:00:00.000Z' },
    activeRuns: 0,
    maxActiveRuns: 100,
    at: '2026-11-24T09:00:00.000Z',
  });
  const paused = statusOf('r-p', {
    deviceId: 'd-2',
    status: 'paused',
    startedAt: '2026-11-24T10:01:00.000Z',
    createdAt: '2026-11-24T10:01:00.000Z',
    pause: { source: 'protocol', message: 'Check the samples', since: '2026-11-24T10:02:00.000Z', by: null, reasons: [] },
    allowedActions: ['play', 'resume', 'stop'],
  } as never);

  beforeAll(async () => {
    server = createServer(createRequestListener({ cache, brokerConnected: () => true, requests, dashboard: new Map(), examplesDir: '/nonexistent' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cache.receive('engine/e-1/online', Buffer.from('true'));
    cache.receive('engine/e-1/status', bytes(engineStatus('e-1', ['d-1'])));
    cache.receive('engine/e-2/online', Buffer.from('true'));
    cache.receive('engine/e-2/status', bytes(engineStatus('e-2', ['d-2'])));
    cache.receive('hw/d-1/online', Buffer.from('true'));
    cache.receive('run/r-s/status', bytes(statusOf('r-s', { deviceId: 'd-1', status: 'succeeded', startedAt: '2026-11-24T10:00:00.000Z', completedAt: '2026-11-24T10:00:30.000Z' })));
    cache.receive('run/r-i/status', bytes(statusOf('r-i', { deviceId: 'd-1', createdAt: '2026-11-24T10:02:00.000Z' })));
    cache.receive('run/r-p/status', bytes(paused));
    cache.receive('device/d-2/current', bytes(paused));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(base + path, init);
    return { status: response.status, body: (await response.json()) as any };
  };
  const runIds = async (path: string) => (await call(path)).body.data.map((s: { runId: string }) => s.runId);

  it('lists the devices with their engine and current run, and one device by id (404 for one nobody named)', async () => {
    const devices = await call('/devices');
    expect(devices.status).toBe(200);
    expect(devices.body.data.map((d: { deviceId: string; engineId: string; online: boolean }) => [d.deviceId, d.engineId, d.online])).toEqual([
      ['d-1', 'e-1', true],
      ['d-2', 'e-2', false],
    ]);
    expect(await call('/devices/d-2')).toEqual({ status: 200, body: { data: { deviceId: 'd-2', online: false, state: null, engineId: 'e-2', standby: [], current: paused } } });
    expect((await call('/devices/d-1')).body.data.current).toMatchObject({ runId: 'r-i', status: 'idle' });
    expect(await call('/devices/nope')).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: 'no device nope: no hardware service, engine or run has named it' } } });
  });

  it('lists the engines, and one engine by id (404 for an unknown one)', async () => {
    expect((await call('/engines')).body.data.map((e: { engineId: string; devices: string[] }) => [e.engineId, e.devices])).toEqual([
      ['e-1', ['d-1']],
      ['e-2', ['d-2']],
    ]);
    expect(await call('/engines/e-2')).toMatchObject({ status: 200, body: { data: { engineId: 'e-2', online: true, devices: ['d-2'], activeRuns: 0 } } });
    expect(await call('/engines/e-9')).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: 'no engine e-9' } } });
  });

  it('filters GET /runs by device and by status (a comma list), and lists every run without a query', async () => {
    expect(await runIds('/runs')).toEqual(['r-s', 'r-p', 'r-i']);
    expect(await runIds('/runs?deviceId=d-1')).toEqual(['r-s', 'r-i']);
    expect(await runIds('/runs?status=paused,idle')).toEqual(['r-p', 'r-i']);
    expect(await runIds('/runs?deviceId=d-1&status=succeeded')).toEqual(['r-s']);
    expect(await runIds('/runs?deviceId=d-9')).toEqual([]);
  });

  it.each([
    [
      '/runs?status=sleeping',
      'the query is not one GET /runs takes (deviceId, status):\n✖ "sleeping" is not a run status: expected one of idle, running, pausing, paused, blocked, awaiting-recovery, stopping, stopped, succeeded, failed\n  → at status[0]',
    ],
    ['/runs?status=paused,', '"" is not a run status'],
    ['/runs?device=d-1', 'Unrecognized key: "device"'],
    ['/runs?deviceId=', 'device id must not be empty'],
    ['/runs?status=paused&status=idle', 'the query gives status more than once; give it once (status takes a comma-separated list)'],
  ])('answers GET %s with 422 invalid-query, saying why', async (path, message) => {
    const answer = await call(path);
    expect(answer).toMatchObject({ status: 422, body: { error: { code: 'invalid-query' } } });
    expect(answer.body.error.message).toContain(message);
  });

  it('answers a create for a device no online engine serves 422 unknown-device at once, without asking the engines', async () => {
    const before = published.length;
    const started = Date.now();
    const answer = await call('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol, deviceId: 'nowhere', runId: 'r-nowhere' }) });
    expect(answer).toEqual({
      status: 422,
      body: { error: { code: 'unknown-device', message: 'cannot create run r-nowhere: no online engine serves device nowhere; the devices served now are d-1, d-2' } },
    });
    expect(Date.now() - started).toBeLessThan(150);
    expect(published.length).toBe(before);
    // A device an online engine serves is the engine's to create.
    expect((await call('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol, deviceId: 'd-2', runId: 'r-d2' }) })).status).toBe(201);
  });

  it('asks the engines about an unserved device while an online engine has not said which devices it serves', async () => {
    cache.receive('engine/e-old/online', Buffer.from('true'));
    cache.receive('engine/e-old/status', bytes(engineStatus('e-old')));
    try {
      const answer = await call('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol, deviceId: 'nowhere', runId: 'r-old' }) });
      expect(answer).toEqual({ status: 422, body: { error: { code: 'unknown-device', message: 'cannot create run r-old: from the engine' } } });
      expect(published).toContain('run/r-old/create');
    } finally {
      cache.receive('engine/e-old/online', Buffer.from('false'));
    }
  });

  it('sends the devices on GET /events first, and again when a device’s current run changes', async () => {
    const stream = await openSse(`${base}/events`);
    try {
      const first = await stream.waitFor((m) => m.event === 'devices', 'devices');
      expect(first.data.map((d: { deviceId: string }) => d.deviceId)).toEqual(['d-1', 'd-2']);
      cache.receive('device/d-1/current', bytes(statusOf('r-i', { deviceId: 'd-1', status: 'running', seq: 2, startedAt: '2026-11-24T10:03:00.000Z' })));
      const next = await stream.waitFor((m) => m.event === 'devices' && m !== first, 'the devices again');
      expect(next.data[0]).toMatchObject({ deviceId: 'd-1', current: { runId: 'r-i', status: 'running' } });
      // A change that alters no device is not sent again.
      cache.receive('hw/d-9/online', Buffer.from('true'));
      cache.receive('hw/d-9/online', Buffer.alloc(0));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stream.messages.filter((m) => m.event === 'devices')).toHaveLength(2);
    } finally {
      stream.close();
    }
  });
});
