// End to end with authentication: the real broker with an auth file, the engine, hardware and gateway each logged
// in as a service user, and HTTP clients with bearer tokens of different roles from the same file — a wall screen
// that only watches, an operator's laptop that acts. Also the gateway's refusal to serve a network without tokens.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addToken, addUser, removeToken } from '@labrun/auth';
import { appEntry, connectTestClient, startBroker, startProcess, startService, stopAll } from '@labrun/testkit';
import { openSse } from './sse.spec-helpers.js';

const deviceId = 'auth-sim-1';
const engineId = 'auth-engine-1';

const eventually = <T>(check: () => Promise<T>): Promise<T> => vi.waitFor(check, { timeout: 15_000, interval: 100 });

describe('the gateway with bearer tokens, over a broker with users', () => {
  let dir: string;
  let file: string;
  let http: string;
  let brokerUrl: string;
  const tokens: Record<string, string> = {};

  const call = async (method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(http + url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as any) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-gateway-auth-it-'));
    file = path.join(dir, 'auth.json');
    for (const name of ['engine', 'hardware', 'gateway']) await addUser(file, name, 'service', `${name}-password`);
    await addUser(file, 'wall', 'viewer', 'wall-password');
    tokens.viewer = (await addToken(file, 'wall-screen', 'viewer', { user: 'wall' })).token;
    tokens.operator = (await addToken(file, 'ana-laptop', 'operator', { user: 'ana' })).token;

    const broker = await startBroker({ LABRUN_AUTH_FILE: file });
    brokerUrl = broker.url;
    const login = (name: string) => ({ MQTT_URL: broker.url, MQTT_USERNAME: name, MQTT_PASSWORD: `${name}-password` });
    await startService('hardware', { ...login('hardware'), DEVICE_ID: deviceId });
    await startService('engine', { ...login('engine'), ENGINE_ID: engineId, DEVICE_ID: deviceId });
    const gateway = await startService('gateway', { ...login('gateway'), HTTP_PORT: '0', LABRUN_AUTH_FILE: file });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    await gateway.waitFor(/authentication on: every request needs a bearer token.* tokens=2/);
    // The gateway, logged in as a service user, sees the engine come online.
    await eventually(async () => expect((await call('GET', '/healthz', { token: tokens.viewer })).body.engines[engineId]).toBe(true));
  });

  afterAll(async () => {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 401 with a Bearer challenge without a token, or with one it does not know; the dashboard page is open', async () => {
    for (const url of ['/runs', '/healthz', '/events', '/examples', '/devices', '/engines']) {
      const answer = await call('GET', url);
      expect([url, answer.status, answer.headers.get('www-authenticate')]).toEqual([url, 401, 'Bearer realm="labrun"']);
      expect(answer.body.error.code).toBe('unauthorized');
    }
    const wrong = await call('GET', '/runs', { token: `${tokens.viewer}x` });
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'invalid-token' } } });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="labrun", error="invalid_token"');
    const page = await fetch(`${http}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="token-dialog"');
  });

  it('lets a viewer token read (200) but not create or act (403, naming the operator role)', async () => {
    expect(await call('GET', '/runs', { token: tokens.viewer })).toMatchObject({ status: 200, body: { data: expect.any(Array) } });
    const protocol = { schemaVersion: 1, metadata: { name: 'viewer try' }, commands: [{ type: 'home' }] };
    const create = await call('POST', '/runs', { token: tokens.viewer, body: protocol });
    expect(create).toMatchObject({ status: 403, body: { error: { code: 'forbidden', requiredRole: 'operator' } } });
    expect(create.body.error.message).toBe('token wall-screen (role viewer) may not POST /runs: that needs the operator role (or service or admin)');

    // A run the viewer can see, made with the operator's token, then the viewer's action on it.
    const runId = `auth-${randomUUID().slice(0, 8)}`;
    expect((await call('POST', '/runs', { token: tokens.operator, body: { protocol, runId } })).status).toBe(201);
    expect((await call('GET', `/runs/${runId}`, { token: tokens.viewer })).body.data).toMatchObject({ runId, status: 'idle' });
    const act = await call('POST', `/runs/${runId}/actions`, { token: tokens.viewer, body: { type: 'play' } });
    expect(act).toMatchObject({ status: 403, body: { error: { code: 'forbidden', role: 'viewer', requiredRole: 'operator' } } });
    expect(act.body.error.message).toBe(`token wall-screen (role viewer) may not POST /runs/${runId}/actions: that needs the operator role (or service or admin)`);
    expect((await call('GET', `/runs/${runId}`, { token: tokens.viewer })).body.data.status).toBe('idle');
  });

  it('lets a viewer read the fleet: the engine serving the device, and the device’s current run, which the gateway (a service user) may follow', async () => {
    const protocol = { schemaVersion: 1, metadata: { name: 'fleet view' }, commands: [{ type: 'home' }] };
    expect((await call('POST', '/runs', { token: tokens.operator, body: { protocol, deviceId, runId: `auth-fleet-${randomUUID().slice(0, 6)}` } })).status).toBe(201);
    await eventually(async () => {
      const device = await call('GET', `/devices/${deviceId}`, { token: tokens.viewer });
      expect(device).toMatchObject({ status: 200, body: { data: { deviceId, engineId, current: { deviceId } } } });
    });
    expect(await call('GET', '/engines', { token: tokens.viewer })).toMatchObject({ status: 200, body: { data: [{ engineId, online: true, devices: [deviceId] }] } });
    // The engine (a service user) may publish device/<id>/current, and a viewer on MQTT may follow it.
    const viewer = await connectTestClient(brokerUrl, { username: 'wall', password: 'wall-password' });
    try {
      await viewer.subscribe(['device/+/current', 'engine/+/status']);
      expect((await viewer.waitFor(`device/${deviceId}/current`)).json()).toMatchObject({ deviceId, engineId });
    } finally {
      await viewer.close();
    }
  });

  it('lets an operator token run a protocol (201s), acting as the token’s user, while a viewer follows it over SSE with the session cookie', async () => {
    const runId = `auth-${randomUUID().slice(0, 8)}`;
    const protocol = {
      schemaVersion: 1,
      metadata: { name: 'with tokens' },
      commands: [
        { type: 'pause', params: { message: 'Check the samples' } },
        { type: 'comment', params: { message: 'Done' } },
      ],
    };
    const created = await call('POST', '/runs', { token: tokens.operator, body: { protocol, runId } });
    expect(created).toMatchObject({ status: 201, body: { data: { runId, status: 'idle' } } });

    // The dashboard's way into an event stream: POST /session with the token, then the stream with its cookie.
    expect((await call('GET', `/runs/${runId}/events`)).status).toBe(401);
    const session = await call('POST', '/session', { token: tokens.viewer });
    expect(session).toMatchObject({ status: 200, body: { data: { authentication: true, token: 'wall-screen', user: 'wall', role: 'viewer' } } });
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    const stream = await openSse(`${http}/runs/${runId}/events`, { cookie });
    try {
      expect(stream.status).toBe(200);
      await stream.waitFor((m) => m.event === 'status' && m.data.status === 'idle', 'the idle status');

      const play = await call('POST', `/runs/${runId}/actions`, { token: tokens.operator, body: { type: 'play' } });
      expect(play).toMatchObject({ status: 201, body: { data: { type: 'play', by: 'ana' } } });
      await stream.waitFor((m) => m.event === 'status' && m.data.status === 'paused', 'the protocol’s pause');

      const resume = await call('POST', `/runs/${runId}/actions`, { token: tokens.operator, body: { type: 'resume', message: 'samples fine' } });
      expect(resume).toMatchObject({ status: 201, body: { data: { type: 'resume', by: 'ana', message: 'samples fine' } } });
      const accepted = await stream.waitFor((m) => m.event === 'event' && m.data.type === 'action.accepted' && m.data.action === 'resume', 'resume accepted');
      expect(accepted.data.by).toBe('ana');
      await stream.waitFor((m) => m.event === 'status' && m.data.status === 'succeeded', 'succeeded');
    } finally {
      stream.close();
    }
  });

  it('refuses a token removed from the file (401) from the next request on, and ends the streams opened with it', async () => {
    const { token } = await addToken(file, 'temp-laptop', 'operator', { user: 'temp' });
    expect((await call('GET', '/runs', { token })).status).toBe(200);
    const stream = await openSse(`${http}/events`, { authorization: `Bearer ${token}` });
    await stream.waitFor((m) => m.event === 'runs', 'runs');

    await removeToken(file, 'temp-laptop');
    expect(await call('GET', '/runs', { token })).toMatchObject({ status: 401, body: { error: { code: 'invalid-token' } } });
    expect((await call('POST', '/session', { token })).status).toBe(401);
    await stream.ended(10_000);
    // Everyone else is still let in.
    expect((await call('GET', '/runs', { token: tokens.viewer })).status).toBe(200);
  });

  it('refuses to start on a non-loopback HTTP_HOST without an auth file, unless GATEWAY_ALLOW_ANONYMOUS=true; and with a missing auth file', async () => {
    const login = { MQTT_URL: brokerUrl, MQTT_USERNAME: 'gateway', MQTT_PASSWORD: 'gateway-password', HTTP_PORT: '0', GATEWAY_ID: 'gw-refused' };
    const open = startProcess('gateway (anonymous on the network)', appEntry('gateway'), { ...login, HTTP_HOST: '0.0.0.0' });
    expect(await open.exited()).toBe(2);
    expect(open.output()).toContain('HTTP_HOST="0.0.0.0" is not a loopback address, and no LABRUN_AUTH_FILE is set');
    expect(open.output()).not.toContain('listening');

    const missing = startProcess('gateway (no such auth file)', appEntry('gateway'), { ...login, LABRUN_AUTH_FILE: path.join(dir, 'nope.json') });
    expect(await missing.exited()).toBe(2);
    expect(missing.output()).toContain(`LABRUN_AUTH_FILE: auth file ${path.join(dir, 'nope.json')} does not exist. Create it with its first token: labrun token add`);

    const allowed = startProcess('gateway (anonymous, allowed)', appEntry('gateway'), { ...login, HTTP_HOST: '0.0.0.0', GATEWAY_ALLOW_ANONYMOUS: 'true' });
    await allowed.waitFor(/authentication off \(no LABRUN_AUTH_FILE\)/);
    expect(allowed.output()).toMatch(/listening http=http:\/\/0\.0\.0\.0:\d+/);
    await allowed.stop();
  });
});
