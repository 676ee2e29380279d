// Unit tests of the HTTP API over a real node:http server in this process, fed by a cache filled by hand.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerCache } from './broker-cache.js';
import { createRequestListener } from './http-api.js';
import { statusDocument as statusOf } from '@labrun/testkit';

describe('the HTTP API', () => {
  const cache = new BrokerCache();
  let connected = true;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer(createRequestListener({ cache, brokerConnected: () => connected }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cache.receive('run/r-1/status', Buffer.from(JSON.stringify(statusOf('r-1'))));
    cache.receive('run/r 2/status', Buffer.from(JSON.stringify(statusOf('r 2', { createdAt: '2026-11-24T12:00:00.000Z' }))));
    cache.receive('engine/engine-1/online', Buffer.from('true'));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(base + path, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  };

  it('answers /healthz 200 while the broker is connected, and 503 when it is not', async () => {
    connected = true;
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { broker: true, engines: { 'engine-1': true }, devices: {} } });
    connected = false;
    expect(await get('/healthz')).toMatchObject({ status: 503, body: { broker: false } });
    connected = true;
  });

  it('lists runs as { data: [...] } and serves one run, its id percent-decoded', async () => {
    const list = await get('/runs');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(list.body.data.map((s: { runId: string }) => s.runId)).toEqual(['r-1', 'r 2']);
    expect(await get('/runs/r-1')).toEqual(expect.objectContaining({ status: 200, body: { data: statusOf('r-1') } }));
    expect((await get('/runs/r%202/')).body.data.runId).toBe('r 2');
  });

  it('answers an unknown run, an unknown route and a malformed path with JSON errors', async () => {
    expect(await get('/runs/r-404')).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: 'no run r-404' } } });
    expect(await get('/nope?x=1')).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: 'no such endpoint: GET /nope' } } });
    expect(await get('/runs/%E0%A4%A')).toMatchObject({ status: 400, body: { error: { code: 'bad-request' } } });
  });

  it('answers a method the route does not take with 405 and an Allow header', async () => {
    const response = await get('/runs/r-1', { method: 'DELETE' });
    expect(response).toMatchObject({ status: 405, body: { error: { code: 'method-not-allowed', message: 'DELETE is not allowed on /runs/r-1; use GET or HEAD' } } });
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD like GET, without a body', async () => {
    const response = await get('/runs', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.body).toBeUndefined();
  });
});
