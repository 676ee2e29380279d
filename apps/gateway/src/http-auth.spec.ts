// Bearer tokens on the HTTP API, over a real node:http server in this process and a real auth file: who gets in,
// what each role may do, the session cookie for event streams, and tokens removed while the gateway runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken, addUser, removeToken } from '@labrun/auth';
import { statusDocument as statusOf } from '@labrun/testkit';
import { BrokerCache } from './broker-cache.js';
import { createRequestListener } from './http-api.js';
import { cookieValue, GatewayAuth } from './http-auth.js';
import { RunRequests } from './run-requests.js';
import { openSse } from './sse.spec-helpers.js';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('the HTTP API with bearer tokens', () => {
  const cache = new BrokerCache();
  const published: { topic: string; payload: any }[] = [];
  // The engine: every action is accepted, with the `by` it was sent.
  const requests = new RunRequests(cache, async (topic, payload) => {
    const body = JSON.parse(payload);
    published.push({ topic, payload: body });
    setImmediate(() =>
      cache.receive(
        `run/r-1/events`,
        bytes({ runId: 'r-1', seq: 2, at: '2026-11-24T10:00:01.000Z', type: 'action.accepted', actionId: body.id, action: body.type, by: body.by ?? null, message: null, mode: null }),
      ),
    );
  });
  let dir: string;
  let file: string;
  let auth: GatewayAuth;
  let server: Server;
  let base: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-gateway-auth-'));
    file = path.join(dir, 'auth.json');
    await addUser(file, 'engine', 'service', 'a service password'); // users are the broker's: they open nothing here
    for (const [name, role, user] of [
      ['wall-screen', 'viewer', 'wall'],
      ['ana-laptop', 'operator', 'ana'],
      ['lims', 'service', 'lims'],
      ['root', 'admin', 'root'],
    ] as const) {
      tokens[name] = (await addToken(file, name, role, { user })).token;
    }
    auth = await GatewayAuth.open(file, { checkEveryMs: 100 });
    const dashboard = new Map([['/', { body: Buffer.from('<!doctype html><title>labrun</title>'), contentType: 'text/html; charset=utf-8' }]]);
    server = createServer(createRequestListener({ cache, brokerConnected: () => true, requests, dashboard, examplesDir: '/nonexistent', auth }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cache.receive('run/r-1/status', bytes(statusOf('r-1')));
  });
  afterAll(async () => {
    auth.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, url: string, options: { token?: string; headers?: Record<string, string>; body?: unknown } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(base + url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  };

  it('answers a request without a token 401 with a Bearer challenge, and serves the dashboard page to anyone', async () => {
    const answer = await call('GET', '/runs');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="labrun"');
    expect(answer.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('send Authorization: Bearer <token>') });
    expect((await call('GET', '/healthz')).status).toBe(401);
    expect((await call('POST', '/runs/r-1/actions', { body: { type: 'play' } })).status).toBe(401);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('answers an unknown token, another scheme and a token in the URL 401, saying which', async () => {
    const unknown = await call('GET', '/runs', { token: 'lrt_not-a-token-anyone-made' });
    expect(unknown).toMatchObject({ status: 401, body: { error: { code: 'invalid-token' } } });
    expect(unknown.headers.get('www-authenticate')).toBe('Bearer realm="labrun", error="invalid_token"');
    const basic = await call('GET', '/runs', { headers: { authorization: 'Basic YW5hOnBpcGV0dGU=' } });
    expect(basic).toMatchObject({ status: 401, body: { error: { code: 'invalid-request', message: 'the Authorization header must be "Bearer <token>"' } } });
    const inUrl = await call('GET', `/events?access_token=${tokens['wall-screen']}`);
    expect(inUrl).toMatchObject({ status: 401, body: { error: { code: 'invalid-request', message: expect.stringContaining('takes no token in the URL') } } });
  });

  it('lets a viewer read but not act: 403 naming the role needed', async () => {
    const token = tokens['wall-screen']!;
    expect((await call('GET', '/runs', { token })).status).toBe(200);
    expect((await call('GET', '/runs/r-1', { token })).body.data.runId).toBe('r-1');
    expect((await call('HEAD', '/runs', { token })).status).toBe(200);
    const before = published.length;
    const act = await call('POST', '/runs/r-1/actions', { token, body: { type: 'resume' } });
    expect(act).toMatchObject({
      status: 403,
      body: {
        error: {
          code: 'forbidden',
          message: 'token wall-screen (role viewer) may not POST /runs/r-1/actions: that needs the operator role (or service or admin)',
          role: 'viewer',
          requiredRole: 'operator',
        },
      },
    });
    expect(act.headers.get('www-authenticate')).toBe('Bearer realm="labrun", error="insufficient_scope"');
    expect((await call('POST', '/runs', { token, body: { schemaVersion: 1, metadata: { name: 'p' }, commands: [{ type: 'home' }] } })).status).toBe(403);
    expect(published.length).toBe(before);
  });

  it('lets an operator, a service and an admin act; the action is by the token’s user unless the body names someone', async () => {
    const byOperator = await call('POST', '/runs/r-1/actions', { token: tokens['ana-laptop']!, body: { type: 'play' } });
    expect(byOperator).toMatchObject({ status: 201, body: { data: { type: 'play', by: 'ana' } } });
    expect(published.at(-1)!.payload).toMatchObject({ type: 'play', by: 'ana' });
    const named = await call('POST', '/runs/r-1/actions', { token: tokens['ana-laptop']!, body: { type: 'pause', by: 'bench 2' } });
    expect(named).toMatchObject({ status: 201, body: { data: { by: 'bench 2' } } });
    expect(await call('POST', '/runs/r-1/actions', { token: tokens.lims!, body: { type: 'resume' } })).toMatchObject({ status: 201, body: { data: { by: 'lims' } } });
    expect(await call('POST', '/runs/r-1/actions', { token: tokens.root!, body: { type: 'resume' } })).toMatchObject({ status: 201, body: { data: { by: 'root' } } });
  });

  it('starts a session: who the token is, and a cookie the event streams (and only they) take', async () => {
    expect((await call('POST', '/session')).status).toBe(401);
    const session = await call('POST', '/session', { token: tokens['wall-screen']! });
    expect(session).toMatchObject({ status: 200, body: { data: { authentication: true, token: 'wall-screen', user: 'wall', role: 'viewer' } } });
    const setCookie = session.headers.get('set-cookie')!;
    expect(setCookie).toBe(`labrun_token=${tokens['wall-screen']}; Path=/; HttpOnly; SameSite=Strict`);
    const cookie = setCookie.split(';')[0]!;

    const stream = await openSse(`${base}/events`, { cookie });
    try {
      expect(stream.status).toBe(200);
      await stream.waitFor((m) => m.event === 'runs', 'runs');
    } finally {
      stream.close();
    }
    expect((await call('GET', '/runs', { headers: { cookie } })).status).toBe(401);
    // A session cookie is never a way to act: a cross-site form could otherwise send it along.
    expect((await call('POST', '/session', { headers: { cookie } })).status).toBe(401);
    expect((await call('POST', '/runs/r-1/actions', { headers: { cookie: `labrun_token=${tokens['ana-laptop']}` }, body: { type: 'play' } })).status).toBe(401);

    const ended = await call('DELETE', '/session');
    expect(ended.status).toBe(200);
    expect(ended.headers.get('set-cookie')).toContain('labrun_token=; Path=/; Max-Age=0');
  });

  it('refuses a token removed from the file from the next request on, and ends its open streams', async () => {
    const { token } = await addToken(file, 'temp', 'operator');
    expect((await call('GET', '/runs', { token })).status).toBe(200);
    const stream = await openSse(`${base}/runs/r-1/events`, { authorization: `Bearer ${token}` });
    await stream.waitFor((m) => m.event === 'status', 'the status');
    expect(await removeToken(file, 'temp')).toBe(true);
    expect(await call('GET', '/runs', { token })).toMatchObject({ status: 401, body: { error: { code: 'invalid-token' } } });
    await stream.ended(5000);
    expect((await call('GET', '/runs', { token: tokens['wall-screen']! })).status).toBe(200);
  });

  it('keeps the tokens it had when the file is broken, and takes the file again once it is fixed', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const good = await readFile(file, 'utf8');
    await writeFile(file, '{ "users": ');
    expect((await call('GET', '/runs', { token: tokens['ana-laptop']! })).status).toBe(200);
    await writeFile(file, good);
    const { token } = await addToken(file, 'after-the-fix', 'viewer');
    expect((await call('GET', '/runs', { token })).status).toBe(200);
  });
});

describe('the login rate limit on bearer tokens', () => {
  /** GET /runs from `localAddress` (127.0.0.2 is another machine, as far as the gateway can tell). */
  const get = (port: number, token: string, localAddress = '127.0.0.1') =>
    new Promise<{ status: number; retryAfter: string | undefined; body: any }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/runs', localAddress, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end();
    });

  it('answers 429 with Retry-After after 10 unknown tokens from one address, its good tokens too, and lets other addresses in', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-gateway-limit-'));
    const file = path.join(dir, 'auth.json');
    const { token } = await addToken(file, 'ana-laptop', 'operator');
    const auth = await GatewayAuth.open(file, { loginLimits: { maxFailures: 10, windowSeconds: 60, blockSeconds: 60 } });
    const cache = new BrokerCache();
    const server = createServer(
      createRequestListener({ cache, brokerConnected: () => true, requests: new RunRequests(cache, async () => {}), dashboard: new Map(), examplesDir: '/nonexistent', auth }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 30; attempt++) statuses.push((await get(port, `lrt_guess-${attempt}`, '127.0.0.2')).status);
      expect(statuses).toEqual([...Array(10).fill(401), ...Array(20).fill(429)]);

      const refused = await get(port, token, '127.0.0.2');
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThan(50);
      expect(refused.body).toEqual({
        error: {
          code: 'too-many-attempts',
          message: expect.stringMatching(/^too many requests with unknown bearer tokens from this address: try again in \d+ s/),
          retryAfterSeconds: Number(refused.retryAfter),
        },
      });
      expect((await get(port, token, '127.0.0.1')).status).toBe(200);
    } finally {
      auth.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cookieValue', () => {
  it('finds one cookie among several, and nothing in an absent header', () => {
    expect(cookieValue('a=1; labrun_token=lrt_x; b=2', 'labrun_token')).toBe('lrt_x');
    expect(cookieValue('xlabrun_token=1', 'labrun_token')).toBeUndefined();
    expect(cookieValue(undefined, 'labrun_token')).toBeUndefined();
  });
});

describe('POST /session without an auth file', () => {
  it('says no token is needed and sets no cookie', async () => {
    const cache = new BrokerCache();
    const server = createServer(createRequestListener({ cache, brokerConnected: () => true, requests: new RunRequests(cache, async () => {}), dashboard: new Map(), examplesDir: '/nonexistent' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/session`, { method: 'POST' });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { authentication: false } });
      expect(response.headers.get('set-cookie')).toBeNull();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
