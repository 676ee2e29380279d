// End to end: the real broker, engine, hardware simulator and gateway processes on ephemeral ports, every HTTP
// endpoint read and written with fetch the way a LIMS would, and MQTT used where another client would act.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appEntry, connectTestClient, startBroker, startProcess, startService, statusDocument, stopAll, type BrokerProcess, type TestClient } from '@labrun/testkit';
import { openSse } from './sse.spec-helpers.js';

const deviceId = 'gw-sim-1';
const engineId = 'gw-engine-1';

/** Retry `check` until it stops throwing: the gateway learns of each change a moment after the broker does. */
const eventually = <T>(check: () => Promise<T>): Promise<T> => vi.waitFor(check, { timeout: 10_000, interval: 50 });

const protocolOf = (name: string, commands: unknown[]) => ({ schemaVersion: 1, metadata: { name }, commands });
const newRunId = () => `gw-${randomUUID().slice(0, 8)}`;

/** An HTTP client for one gateway: JSON in, `{ status, headers, body }` out. */
function httpClient(base: () => string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await fetch(base() + path, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as any) };
  };
}

describe('the gateway, with the real services', () => {
  let broker: BrokerProcess;
  let client: TestClient;
  let http: string;
  let dataDir: string;
  const call = httpClient(() => http);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'labrun-gateway-it-'));
    broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: deviceId });
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: engineId, DEVICE_ID: deviceId, LABRUN_DATA_DIR: dataDir });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    client = await connectTestClient(broker.url);
    // The gateway learns of the engine from its retained online flag; creates need it to be there.
    await eventually(async () => expect((await call('GET', '/healthz')).body.engines[engineId]).toBe(true));
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reports the broker, the engine and the device online in /healthz', async () => {
    const health = await eventually(async () => {
      const answer = await call('GET', '/healthz');
      expect(answer).toMatchObject({ status: 200, body: { broker: true, engines: { [engineId]: true }, devices: { [deviceId]: { online: true } } } });
      return answer.body;
    });
    // The device's retained state as the hardware service published it (whether the simulator starts Idle or in
    // Alarm until homed is the hardware's business).
    expect(health.devices[deviceId].state).toMatchObject({
      connected: true,
      machine: expect.any(String),
      door: 'closed',
      position: { x: expect.any(Number), y: expect.any(Number), z: expect.any(Number) },
    });
  });

  it('creates a run from a bare protocol document: 201 with the idle status, an id of its choosing and a Location', async () => {
    const created = await call('POST', '/runs', protocolOf('bare document', [{ type: 'comment', params: { message: 'hello' } }]));
    expect(created.status).toBe(201);
    const { runId } = created.body.data;
    expect(runId).toMatch(/^r-[0-9a-f]{8}$/);
    expect(created.body.data).toMatchObject({ status: 'idle', name: 'bare document', deviceId, allowedActions: ['play', 'stop'], progress: { completed: 0, total: 1 } });
    expect(created.headers.get('location')).toBe(`/runs/${runId}`);
    expect((await call('GET', `/runs/${runId}`)).body.data).toMatchObject({ runId, status: 'idle' });
    expect((await call('GET', '/runs')).body.data.map((s: { runId: string }) => s.runId)).toContain(runId);
  });

  it('creates a run with the id and device asked for; the same create again is 200, another protocol under that id 422 with the engine’s reason', async () => {
    const runId = newRunId();
    const protocol = protocolOf('chosen id', [{ type: 'home' }]);
    const created = await call('POST', '/runs', { protocol, deviceId, runId });
    expect(created).toMatchObject({ status: 201, body: { data: { runId, deviceId, status: 'idle' } } });

    expect(await call('POST', '/runs', { protocol, deviceId, runId })).toMatchObject({ status: 200, body: { data: { runId, status: 'idle' } } });

    const clash = await call('POST', '/runs', { protocol: protocolOf('another', [{ type: 'home' }]), runId });
    expect(clash).toEqual({
      status: 422,
      headers: expect.anything(),
      body: { error: { code: 'run-exists', message: `cannot create run ${runId}: a run with that id already exists with a different protocol, device or error recovery policy` } },
    });
  });

  it('refuses a body that is not JSON (400), not JSON by its type (415), or not a protocol (422, with zod’s message)', async () => {
    expect(await call('POST', '/runs', '{"schemaVersion": 1,')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid-json', message: expect.stringMatching(/^the body is not valid JSON: /) } },
    });
    expect(await call('POST', '/runs', '')).toMatchObject({ status: 400, body: { error: { code: 'invalid-json', message: 'the body is empty; send a JSON document' } } });
    expect(await call('POST', '/runs', 'schemaVersion=1', { 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported-media-type' } },
    });

    const badMove = await call('POST', '/runs', protocolOf('bad', [{ type: 'move', params: { feed: 100 } }]));
    expect(badMove).toMatchObject({ status: 422, body: { error: { code: 'invalid-protocol' } } });
    expect(badMove.body.error.message).toBe('the protocol is not one labrun can run:\n✖ move needs at least one of x, y, z, or a well to go to ("to": "plate1/A1")\n  → at commands[0].params');

    // What a dashboard sends for a pasted protocol with a typo: answered about the protocol, not the wrapper.
    const pasted = await call('POST', '/runs', { protocol: protocolOf('typo', [{ type: 'hmoe' }]) });
    expect(pasted.body.error.message).toBe(
      'the protocol is not one labrun can run:\n✖ unknown command type: expected one of home, move, pause, delay, comment, publish, wait-for, set-output, gcode, probe\n  → at commands[0].type',
    );
    const { metadata: _, ...noMetadata } = protocolOf('none', [{ type: 'home' }]) as Record<string, unknown>;
    const missing = await call('POST', '/runs', { protocol: noMetadata });
    expect(missing.body.error.message).toBe('the protocol is not one labrun can run:\n✖ a protocol needs "metadata": { "name": "…" }\n  → at metadata');

    const unknownKey = await call('POST', '/runs', { protocol: protocolOf('ok', [{ type: 'home' }]), priority: 'high' });
    expect(unknownKey).toMatchObject({ status: 422, body: { error: { code: 'invalid-protocol' } } });
    expect(unknownKey.body.error.message).toContain('✖ Unrecognized key: "priority"');

    const badId = await call('POST', '/runs', { protocol: protocolOf('ok', [{ type: 'home' }]), runId: 'a/b' });
    expect(badId.body.error.message).toContain("run id must not contain '+', '#', '/'");
  });

  it('runs a protocol through the actions endpoint: play, the protocol’s pause, 409 with the engine’s reason, resume with who did it', async () => {
    const runId = newRunId();
    const protocol = protocolOf('pausing', [{ type: 'home' }, { type: 'pause', params: { message: 'Check the samples' } }, { type: 'comment', params: { message: 'Done' } }]);
    expect((await call('POST', '/runs', { protocol, runId })).status).toBe(201);

    const play = await call('POST', `/runs/${runId}/actions`, { type: 'play' });
    expect(play).toMatchObject({ status: 201, body: { data: { id: expect.stringMatching(/^gw-/), type: 'play', by: null, message: null, mode: null, createdAt: expect.any(String) } } });

    const paused = await eventually(async () => {
      const answer = await call('GET', `/runs/${runId}`);
      expect(answer.body.data).toMatchObject({ status: 'paused', pause: { source: 'protocol', message: 'Check the samples' } });
      return answer.body.data;
    });
    expect(paused.allowedActions).toEqual(['play', 'resume', 'stop']);

    const pauseAgain = await call('POST', `/runs/${runId}/actions`, { type: 'pause', id: 'a-pause-1' });
    expect(pauseAgain).toMatchObject({
      status: 409,
      body: { error: { code: 'already-paused', message: `cannot pause run ${runId}: it is already paused`, actionId: 'a-pause-1' } },
    });

    const resume = await call('POST', `/runs/${runId}/actions`, { type: 'resume', id: 'a-resume-1', by: 'ana', message: 'samples look fine' });
    expect(resume).toMatchObject({ status: 201, body: { data: { id: 'a-resume-1', type: 'resume', by: 'ana', message: 'samples look fine' } } });
    // The same action id again is answered again, never applied twice.
    expect(await call('POST', `/runs/${runId}/actions`, { type: 'resume', id: 'a-resume-1', by: 'ana' })).toMatchObject({ status: 201, body: { data: { id: 'a-resume-1' } } });

    await eventually(async () => expect((await call('GET', `/runs/${runId}`)).body.data.status).toBe('succeeded'));
    const finished = await call('POST', `/runs/${runId}/actions`, { type: 'stop' });
    expect(finished).toMatchObject({ status: 409, body: { error: { code: 'run-finished', message: expect.stringContaining(`cannot stop run ${runId}`) } } });
  });

  it('refuses an action body that is not JSON (400), too large (413) or not an action (422), and a resume of a running run with 409 and its reason', async () => {
    const runId = newRunId();
    await call('POST', '/runs', { protocol: protocolOf('long delay', [{ type: 'delay', params: { seconds: 60, message: 'Incubate' } }]), runId });
    expect((await call('POST', `/runs/${runId}/actions`, { type: 'play' })).status).toBe(201);

    const bad = await call('POST', `/runs/${runId}/actions`, { type: 'fly' });
    expect(bad).toMatchObject({ status: 422, body: { error: { code: 'invalid-action' } } });
    expect(bad.body.error.message).toContain('✖ unknown action: expected one of play, pause, resume, stop, skip-delay, retry, skip, home, unlock\n  → at type');
    expect((await call('POST', `/runs/${runId}/actions`, 'resume')).status).toBe(400);
    expect(await call('POST', `/runs/${runId}/actions`, { type: 'pause', message: 'x'.repeat(9000) })).toMatchObject({
      status: 413,
      body: { error: { code: 'payload-too-large', message: 'the body is larger than 8192 bytes, the limit for this endpoint' } },
    });
    expect((await call('POST', `/runs/${runId}/actions`, { type: 'resume', mode: 'deferred' })).body.error.message).toContain('mode is only valid for a pause action');

    await eventually(async () => expect((await call('GET', `/runs/${runId}`)).body.data.status).toBe('running'));
    expect(await call('POST', `/runs/${runId}/actions`, { type: 'resume' })).toMatchObject({
      status: 409,
      body: { error: { code: 'not-paused', message: `cannot resume run ${runId}: it is running, not paused` } },
    });
    expect(await call('POST', `/runs/${runId}/actions`, { type: 'stop', by: 'ana' })).toMatchObject({ status: 201, body: { data: { type: 'stop', by: 'ana' } } });
    await eventually(async () => expect((await call('GET', `/runs/${runId}`)).body.data.status).toBe('stopped'));
  });

  it('lists each command with its status, startedAt, completedAt and error, from the retained commands document', async () => {
    const runId = newRunId();
    const commands = [{ type: 'home' }, { type: 'pause', params: { message: 'Look' } }, { type: 'delay', params: { seconds: 60 } }];
    await call('POST', '/runs', { protocol: protocolOf('commands', commands), runId });
    const queued = await eventually(async () => {
      const answer = await call('GET', `/runs/${runId}/commands`);
      expect(answer.status).toBe(200);
      expect(answer.body.data).toHaveLength(3);
      return answer.body;
    });
    expect(queued.data[0]).toEqual({ index: 0, command: { type: 'home' }, status: 'queued', startedAt: null, completedAt: null, error: null });
    expect(queued.meta).toMatchObject({ runId, cursor: 0, totalLength: 3, current: null });

    await call('POST', `/runs/${runId}/actions`, { type: 'play' });
    const paused = await eventually(async () => {
      const answer = await call('GET', `/runs/${runId}/commands`);
      expect(answer.body.data[1].status).toBe('running');
      return answer.body;
    });
    expect(paused.data[0]).toMatchObject({ status: 'succeeded', startedAt: expect.any(String), completedAt: expect.any(String), error: null });
    expect(paused.data[1]).toMatchObject({ index: 1, command: commands[1], status: 'running', startedAt: expect.any(String), completedAt: null });
    expect(paused.meta.current).toBe(1);
    expect((await call('GET', `/runs/${runId}/commands?cursor=1&pageLength=1`)).body).toMatchObject({ data: [{ index: 1 }], meta: { cursor: 1, totalLength: 3 } });
    expect(await call('GET', `/runs/${runId}/commands?cursor=-1`)).toMatchObject({
      status: 422,
      body: { error: { code: 'invalid-query', message: expect.stringContaining('cursor must be 0 or more') } },
    });

    await call('POST', `/runs/${runId}/actions`, { type: 'resume' });
    await eventually(async () => expect((await call('GET', `/runs/${runId}`)).body.data.status).toBe('running'));
    await call('POST', `/runs/${runId}/actions`, { type: 'stop' });
    const stopped = await eventually(async () => {
      const answer = await call('GET', `/runs/${runId}/commands`);
      expect(answer.body.data[2].status).toBe('failed');
      return answer.body;
    });
    expect(stopped.data[2]).toMatchObject({ status: 'failed', error: { code: 'stopped', message: 'run stopped' }, completedAt: expect.any(String) });
  });

  it('streams a run over server-sent events: its current status first, then every status change, event and commands document', async () => {
    const runId = newRunId();
    await call('POST', '/runs', {
      protocol: protocolOf('streamed', [
        { type: 'pause', params: { message: 'Wait for me' } },
        { type: 'comment', params: { message: 'Done' } },
      ]),
      runId,
    });
    const stream = await openSse(`${http}/runs/${runId}/events`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toBe('text/event-stream; charset=utf-8');
      const first = await stream.waitFor(() => true, 'at all');
      expect(first).toMatchObject({ event: 'status', data: { runId, status: 'idle' } });
      await stream.waitFor((m) => m.event === 'commands' && m.data.runId === runId, 'commands');

      await client.publish(`run/${runId}/actions`, 'play'); // another client acts: the stream shows it all the same
      await stream.waitFor((m) => m.event === 'event' && m.data.type === 'action.accepted' && m.data.action === 'play', 'play accepted');
      await stream.waitFor((m) => m.event === 'status' && m.data.status === 'paused' && m.data.pause.message === 'Wait for me', 'paused status');
      await stream.waitFor((m) => m.event === 'commands' && m.data.commands[0].status === 'running', 'commands with the pause running');

      await call('POST', `/runs/${runId}/actions`, { type: 'resume' });
      await stream.waitFor((m) => m.event === 'status' && m.data.status === 'succeeded', 'succeeded status');
      const statuses = stream.messages.filter((m) => m.event === 'status').map((m) => m.data.status);
      expect(statuses[0]).toBe('idle');
      expect(statuses.at(-1)).toBe('succeeded');
      expect(statuses).toContain('paused');
      expect(stream.messages.every((m) => m.data.runId === runId)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it('streams every run and the health on GET /events', async () => {
    const stream = await openSse(`${http}/events`);
    try {
      const runs = await stream.waitFor((m) => m.event === 'runs', 'runs');
      expect(Array.isArray(runs.data)).toBe(true);
      await stream.waitFor((m) => m.event === 'health' && m.data.engines[engineId] === true, 'health');
      const runId = newRunId();
      await client.publish(`run/${runId}/create`, { protocol: protocolOf('seen live', [{ type: 'comment', params: { message: 'hi' } }]) });
      await stream.waitFor((m) => m.event === 'status' && m.data.runId === runId && m.data.status === 'idle', 'the new run');
      await stream.waitFor((m) => m.event === 'event' && m.data.runId === runId && m.data.type === 'run.created', 'run.created');
      await client.publish(`run/${runId}/status`, '', { retain: true });
      await stream.waitFor((m) => m.event === 'run-removed' && m.data.runId === runId, 'run-removed');
    } finally {
      stream.close();
    }
  });

  it('serves the dashboard at / with its script and style, and the example protocols it offers', async () => {
    const page = await fetch(`${http}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    // The page as vite built it from dashboard/: one module script and one stylesheet, under fixed names.
    expect(html).toContain('<script type="module" crossorigin src="/dashboard.js"></script>');
    expect(html).toContain('<link rel="stylesheet" crossorigin href="/dashboard.css">');
    for (const [file, type] of [
      ['/dashboard.js', 'text/javascript; charset=utf-8'],
      ['/dashboard.css', 'text/css; charset=utf-8'],
      ['/favicon.svg', 'image/svg+xml'],
    ]) {
      const response = await fetch(http + file!);
      expect([file, response.status, response.headers.get('content-type')]).toEqual([file, 200, type]);
    }
    const examples = await call('GET', '/examples');
    expect(examples.body.data).toContainEqual(expect.objectContaining({ id: 'serial-dilution', name: 'Serial dilution', protocol: expect.objectContaining({ schemaVersion: 1 }) }));
    expect((await call('GET', '/dashboard.js/../../package.json')).status).toBe(404);
  });

  it('answers 404 for an unknown run on every run endpoint, an unknown route, and 405 for a wrong method, all as JSON', async () => {
    const notFound = { error: { code: 'not-found', message: 'no run r-nope' } };
    expect(await call('GET', '/runs/r-nope')).toMatchObject({ status: 404, body: notFound });
    expect(await call('GET', '/runs/r-nope/commands')).toMatchObject({ status: 404, body: notFound });
    expect(await call('GET', '/runs/r-nope/events')).toMatchObject({ status: 404, body: notFound });
    expect(await call('POST', '/runs/r-nope/actions', { type: 'resume' })).toMatchObject({ status: 404, body: notFound });
    expect(await call('GET', '/dashboard/nope')).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: 'no such endpoint: GET /dashboard/nope' } } });
    expect(await call('DELETE', '/healthz')).toMatchObject({ status: 405, body: { error: { code: 'method-not-allowed' } } });
    expect(await call('GET', '/runs/r-1/actions')).toMatchObject({ status: 405, body: { error: { message: 'GET is not allowed on /runs/r-1/actions; use POST' } } });
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

  it('answers /healthz 503 and refuses creates with 503 once the broker is gone', async () => {
    await broker.stop();
    await eventually(async () => expect(await call('GET', '/healthz')).toMatchObject({ status: 503, body: { broker: false } }));
    expect(await call('POST', '/runs', protocolOf('late', [{ type: 'home' }]))).toMatchObject({ status: 503, body: { error: { code: 'broker-unavailable' } } });
  });
});

describe('error recovery through the gateway, on a simulator that starts in Alarm', () => {
  // A device of its own: the hardware service's built-in simulator starts locked in Alarm (homing on), so a protocol
  // whose first command is a move fails into awaiting-recovery until someone homes the machine.
  const recoveryDevice = 'gw-rec-sim';
  let http: string;
  let dataDir: string;
  let client: TestClient;
  const call = httpClient(() => http);
  const runStatus = async (runId: string, predicate: (status: any) => boolean) =>
    eventually(async () => {
      const status = (await call('GET', `/runs/${runId}`)).body.data;
      expect(predicate(status), `run ${runId} is ${status.status}`).toBe(true);
      return status;
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'labrun-gateway-recovery-'));
    const broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: recoveryDevice });
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'gw-rec-engine', DEVICE_ID: recoveryDevice, LABRUN_DATA_DIR: dataDir });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    client = await connectTestClient(broker.url);
    await eventually(async () => expect((await call('GET', '/healthz')).body).toMatchObject({ engines: { 'gw-rec-engine': true }, devices: { [recoveryDevice]: { state: { connected: true } } } }));
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Create a run whose first command is a move, play it, and wait until it awaits recovery. */
  async function failedMove(): Promise<{ runId: string; waiting: any }> {
    const runId = newRunId();
    const protocol = protocolOf('unhomed move', [
      { type: 'move', params: { x: 10, y: 10, feed: 6000 } },
      { type: 'comment', params: { message: 'done' } },
    ]);
    expect((await call('POST', '/runs', { protocol, runId })).status).toBe(201);
    expect((await call('POST', `/runs/${runId}/actions`, { type: 'play' })).status).toBe(201);
    return { runId, waiting: await runStatus(runId, (s) => s.status === 'awaiting-recovery') };
  }

  it('skips the failed move with a JSON skip: 201 with who did it, the command skipped, the run succeeds', async () => {
    const { runId, waiting } = await failedMove();
    expect(waiting).toMatchObject({ error: { commandIndex: 0, attempt: 1 }, pause: { source: 'error' }, recovery: { attempt: 1, fixit: null } });
    expect(waiting.allowedActions).toEqual(expect.arrayContaining(['retry', 'skip', 'home', 'stop']));

    expect(await call('POST', `/runs/${runId}/actions`, { type: 'skip', id: 'a-skip-1', by: 'ana' })).toMatchObject({ status: 201, body: { data: { id: 'a-skip-1', type: 'skip', by: 'ana' } } });
    await runStatus(runId, (s) => s.status === 'succeeded');
    const commands = (await call('GET', `/runs/${runId}/commands`)).body.data;
    expect(commands[0]).toMatchObject({ status: 'skipped', skippedBy: 'ana', attempts: [{ attempt: 1, status: 'failed' }] });
    expect(commands[1]).toMatchObject({ status: 'succeeded' });
  });

  it('refuses resume and pause with 409 awaiting-recovery; home over HTTP, then a bare-word retry over MQTT, finishes the move', async () => {
    const { runId, waiting } = await failedMove();
    for (const type of ['resume', 'pause']) {
      const refused = await call('POST', `/runs/${runId}/actions`, { type, id: `a-${type}` });
      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'awaiting-recovery', message: expect.stringContaining(`run ${runId}`), actionId: `a-${type}` } } });
    }

    expect(await call('POST', `/runs/${runId}/actions`, { type: 'home', by: 'ana' })).toMatchObject({ status: 201, body: { data: { type: 'home', by: 'ana' } } });
    const homed = await runStatus(runId, (s) => s.recovery?.fixit?.ok === true);
    // A fixit action leaves the run waiting: the operator still says what happens to the failed move.
    expect(homed).toMatchObject({ status: 'awaiting-recovery', recovery: { fixit: { action: 'home', ok: true } } });

    await client.publish(`run/${runId}/actions`, 'retry'); // mosquitto_pub -m retry: the bare word
    await runStatus(runId, (s) => s.status === 'succeeded');
    const [move] = (await call('GET', `/runs/${runId}/commands`)).body.data;
    expect(move).toMatchObject({
      status: 'succeeded',
      attempts: [
        { attempt: 1, status: 'failed', error: { code: waiting.error.code } },
        { attempt: 2, status: 'succeeded', error: null },
      ],
    });
  });

  it('refuses a recovery action on a run with no failed command: 409 not-awaiting-recovery', async () => {
    const runId = newRunId();
    await call('POST', '/runs', { protocol: protocolOf('waiting', [{ type: 'delay', params: { seconds: 30 } }]), runId });
    await call('POST', `/runs/${runId}/actions`, { type: 'play' });
    await runStatus(runId, (s) => s.status === 'running');
    for (const type of ['retry', 'skip', 'home', 'unlock']) {
      expect(await call('POST', `/runs/${runId}/actions`, { type })).toMatchObject({ status: 409, body: { error: { code: 'not-awaiting-recovery', message: expect.stringContaining(runId) } } });
    }
    expect((await call('POST', `/runs/${runId}/actions`, { type: 'stop' })).status).toBe(201);
  });
});

describe('a gateway with no engine behind it', () => {
  let http: string;
  let client: TestClient;
  const call = httpClient(() => http);

  beforeAll(async () => {
    const broker = await startBroker();
    client = await connectTestClient(broker.url);
    // A run the broker remembers (a retained status) but no engine is there to act on it.
    await client.publish('run/r-orphan/status', statusDocument('r-orphan'), { retain: true });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    await eventually(async () => expect((await call('GET', '/runs/r-orphan')).status).toBe(200));
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
  });

  it('answers a create and an action 504 when no engine answers within 5 s, saying no engine is online', async () => {
    const [create, action] = await Promise.all([call('POST', '/runs', protocolOf('nobody home', [{ type: 'home' }])), call('POST', '/runs/r-orphan/actions', { type: 'play' })]);
    expect(create).toMatchObject({
      status: 504,
      body: { error: { code: 'engine-timeout', message: expect.stringMatching(/^no engine answered the create of run r-[0-9a-f]{8} within 5 s \(no engine is online\)$/) } },
    });
    expect(action).toEqual({
      status: 504,
      headers: expect.anything(),
      body: { error: { code: 'engine-timeout', message: 'no engine answered play on run r-orphan within 5 s (no engine is online)' } },
    });
  });
});
