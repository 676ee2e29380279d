// Error recovery end to end, as issue 12 states it: the broker, the engine and the hardware service on its
// built-in GRBL simulator (which starts in Alarm, homing enabled), driven over plain MQTT. A protocol whose first
// command is a move waits in awaiting-recovery; home then retry finishes the move; skip goes on; a policy of fail
// fails as before; a run awaiting recovery survives SIGKILL of every process exactly as it was.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll, type BrokerProcess, type ServiceProcess, type TestClient } from '@labrun/testkit';

describe('error recovery on the simulator, over MQTT', () => {
  let broker: BrokerProcess;
  let engine: ServiceProcess;
  let hardware: ServiceProcess;
  let client: TestClient;
  const deviceId = `sim-rec-${randomUUID().slice(0, 6)}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-recovery-'));
  // The engine also serves a device no hardware service serves: its runs fail with code offline.
  const engineEnv = () => ({ MQTT_URL: broker.url, ENGINE_ID: 'e-recovery', DEVICE_ID: deviceId, ENGINE_DEVICES: `${deviceId},no-such-device`, LABRUN_DATA_DIR: dataDir });
  const hardwareEnv = () => ({ MQTT_URL: broker.url, DEVICE_ID: deviceId });

  beforeAll(async () => {
    broker = await startBroker();
    engine = await startService('engine', engineEnv());
    hardware = await startService('hardware', hardwareEnv());
    client = await connectTestClient(broker.url);
    await client.subscribe(`hw/${deviceId}/state`);
    await connected(0);
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function create(commands: unknown[], extra: object = {}): Promise<string> {
    const runId = `rec-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`, `run/${runId}/commands`]);
    await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'recovery' }, commands }, deviceId, ...extra });
    await client.publish(`run/${runId}/actions`, 'play');
    return runId;
  }
  const status = async (runId: string, predicate: (s: RunStatusDocument) => boolean, since = 0, timeoutMs = 20_000): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && client.received.indexOf(m) >= since && predicate(m.json()), timeoutMs)).json();
  const events = (runId: string): RunEvent[] => client.messages(`run/${runId}/events`).map((m) => m.json());
  const act = (runId: string, payload: string | object) => client.publish(`run/${runId}/actions`, payload);
  const answerTo = async (runId: string, id: string) => (await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === id)).json() as RunEvent;
  /** The hardware service has its controller (the built-in simulator connects just after the service starts). */
  const connected = (since: number) => client.waitFor(`hw/${deviceId}/state`, (m) => m.text !== '' && client.received.indexOf(m) >= since && m.json().connected === true, 20_000);
  /** Leave the simulator in Alarm, as it starts: the next protocol's first move fails again. */
  async function resetSimulator() {
    await hardware.stop();
    const mark = client.received.length;
    hardware = await startService('hardware', hardwareEnv());
    await connected(mark);
  }

  it('a first move on the unhomed simulator waits for recovery; home, then retry, finishes the move', async () => {
    const runId = await create([
      { type: 'move', params: { x: 10, y: 10, feed: 6000 } },
      { type: 'comment', params: { message: 'done' } },
    ]);
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery');
    expect(waiting).toMatchObject({
      error: { commandIndex: 0, attempt: 1 },
      current: { index: 0, type: 'move' },
      pause: { source: 'error', message: waiting.error!.message, since: expect.any(String) },
      recovery: { attempt: 1, needsHome: false, fixit: null },
    });
    // The controller's own words, and what to do.
    expect(waiting.error!.message).toMatch(/home/i);
    expect(waiting.allowedActions).toEqual(expect.arrayContaining(['retry', 'skip', 'home', 'stop']));
    expect(waiting.allowedActions).not.toContain('resume');

    await act(runId, { type: 'resume', id: 'not-now' });
    expect(await answerTo(runId, 'not-now')).toMatchObject({ type: 'action.rejected', code: 'awaiting-recovery' });

    const mark = client.received.length;
    await act(runId, 'home');
    const homed = await status(runId, (s) => s.recovery?.fixit?.ok === true, mark);
    expect(homed).toMatchObject({ status: 'awaiting-recovery', recovery: { fixit: { action: 'home', ok: true } } });
    await act(runId, 'retry');
    const done = await status(runId, (s) => s.status === 'succeeded');
    expect(done).toMatchObject({ error: null, recovery: null, progress: { completed: 2, total: 2 } });

    const commands = (await client.waitFor(`run/${runId}/commands`, (m) => (m.json() as RunCommandsDocument).commands[0]!.status === 'succeeded')).json() as RunCommandsDocument;
    expect(commands.commands[0]).toMatchObject({
      status: 'succeeded',
      attempts: [
        { attempt: 1, status: 'failed', error: { code: waiting.error!.code } },
        { attempt: 2, status: 'succeeded', error: null, result: { position: { x: 10, y: 10, z: 0 } } },
      ],
      result: { position: { x: 10, y: 10, z: 0 } },
    });
    expect(events(runId).find((e) => e.type === 'command.succeeded' && e.index === 0)).toMatchObject({ attempt: 2, result: { position: { x: 10, y: 10 } } });
  });

  it('skip marks the failed move skipped and the run succeeds', async () => {
    await resetSimulator();
    const runId = await create([
      { type: 'move', params: { x: 5, feed: 6000 } },
      { type: 'comment', params: { message: 'after' } },
    ]);
    await status(runId, (s) => s.status === 'awaiting-recovery');
    await act(runId, { type: 'skip', by: 'ana' });
    await status(runId, (s) => s.status === 'succeeded');
    const commands = (await client.waitFor(`run/${runId}/commands`, (m) => (m.json() as RunCommandsDocument).commands[1]!.status === 'succeeded')).json() as RunCommandsDocument;
    expect(commands.commands[0]).toMatchObject({ status: 'skipped', skippedBy: 'ana', attempts: [{ attempt: 1, status: 'failed' }] });
    expect(
      events(runId)
        .filter((e) => e.type.startsWith('command.') && 'index' in e && e.index === 0)
        .map((e) => e.type),
    ).toEqual(['command.started', 'command.failed', 'command.skipped']);
  });

  it('a create with errorRecovery default fail fails as before; an invalid policy is refused at create with the reason', async () => {
    await resetSimulator();
    const failing = await create([{ type: 'move', params: { x: 5, feed: 6000 } }], { errorRecovery: { default: 'fail' } });
    const failed = await status(failing, (s) => s.status === 'failed');
    expect(failed.error).toMatchObject({ commandIndex: 0 });

    const bad = `rec-${randomUUID().slice(0, 8)}`;
    await client.subscribe(`run/${bad}/events`);
    await client.publish(`run/${bad}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'x' }, commands: [{ type: 'home' }] }, errorRecovery: { default: 'maybe' } });
    const rejected = (await client.waitFor(`run/${bad}/events`, () => true)).json() as RunEvent;
    expect(rejected).toMatchObject({ type: 'run.rejected', code: 'invalid-create', message: expect.stringContaining('errorRecovery.default must be "wait" or "fail"') });
  });

  it('a policy rule skips by command type and code without waiting', async () => {
    await resetSimulator();
    const waiting = await create([{ type: 'move', params: { x: 5, feed: 6000 } }]);
    const code = (await status(waiting, (s) => s.status === 'awaiting-recovery')).error!.code;
    await act(waiting, 'stop');
    await status(waiting, (s) => s.status === 'stopped');
    await resetSimulator();
    const runId = await create(
      [
        { type: 'move', params: { x: 5, feed: 6000 } },
        { type: 'comment', params: { message: 'went on' } },
      ],
      { errorRecovery: { rules: [{ command: 'move', code, then: 'skip' }] } },
    );
    const done = await status(runId, (s) => s.status === 'succeeded');
    expect(done.progress).toEqual({ completed: 2, total: 2 });
    expect(events(runId).find((e) => e.type === 'command.skipped')).toMatchObject({ index: 0, by: null, message: expect.stringContaining('policy') });
  });

  it('the hardware service dying mid-move fails the move into recovery; once it is back, home and retry finish it', async () => {
    await resetSimulator();
    const runId = await create([{ type: 'home' }, { type: 'move', params: { x: 250, feed: 3000 } }]);
    await status(runId, (s) => s.current?.index === 1);
    await new Promise((r) => setTimeout(r, 500)); // the move is under way
    await hardware.kill();
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery' && s.interlock !== null);
    expect(waiting).toMatchObject({ error: { code: 'disconnected', commandIndex: 1 }, current: { index: 1, type: 'move' }, interlock: { message: expect.stringContaining('offline') } });
    expect(waiting.pause!.reasons.map((r) => r.source).sort()).toEqual(['error', 'interlock']);
    expect(waiting.allowedActions).toEqual(['stop', 'skip']);
    await act(runId, { type: 'retry', id: 'too-soon' });
    expect(await answerTo(runId, 'too-soon')).toMatchObject({ type: 'action.rejected', code: 'interlock-active' });
    const mark = client.received.length;
    hardware = await startService('hardware', hardwareEnv());
    await connected(mark);
    await status(runId, (s) => s.status === 'awaiting-recovery' && s.interlock === null, mark);
    await act(runId, 'home');
    await status(runId, (s) => s.recovery?.fixit?.ok === true, mark);
    await act(runId, 'retry');
    await status(runId, (s) => s.status === 'succeeded', mark, 30_000);
  });

  it('a device no hardware service serves fails the move with code offline after the grace time, into recovery', async () => {
    const runId = `rec-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/status`]);
    await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'nowhere' }, commands: [{ type: 'home' }] }, deviceId: 'no-such-device' });
    await client.publish(`run/${runId}/actions`, 'play');
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery');
    expect(waiting.error).toMatchObject({ code: 'offline', message: expect.stringContaining('no-such-device') });
    await act(runId, 'stop');
    await status(runId, (s) => s.status === 'stopped');
  });

  it('a run awaiting recovery survives SIGKILL of every process exactly as it was', async () => {
    await resetSimulator();
    const runId = await create([{ type: 'move', params: { x: 5, feed: 6000 } }]);
    const before = await status(runId, (s) => s.status === 'awaiting-recovery');
    await Promise.all([engine.kill(), hardware.kill(), broker.kill()]);
    broker = await startBroker({ BROKER_PORT: new URL(broker.url).port });
    const mark = client.received.length;
    engine = await startService('engine', engineEnv());
    hardware = await startService('hardware', hardwareEnv());
    const after = await status(runId, () => true, mark);
    await connected(mark);
    const { seq: _s, updatedAt: _u, ...was } = before;
    expect(after).toMatchObject(was);
    // It still acts: skip goes on from where it waited.
    await act(runId, 'skip');
    await status(runId, (s) => s.status === 'succeeded');
  });
});
