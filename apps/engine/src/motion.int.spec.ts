// Runs on real motion: the engine, the hardware service with the GRBL serial driver, and the GRBL simulator
// as its own process on a pseudo-terminal — the same path a USB-attached controller takes. Through plain MQTT.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HardwareState, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { commandExists, connectTestClient, requirement, startBroker, startGrblSim, startService, stopAll, type GrblSimProcess, type ServiceProcess, type TestClient } from '@labrun/testkit';

const hasSocat = requirement(commandExists('socat'), 'socat', 'install it with `apt-get install socat` (.ci/run does)');

describe.skipIf(!hasSocat)('runs on a GRBL controller over a serial line', () => {
  let url: string;
  let client: TestClient;
  let sim: GrblSimProcess;
  let hardware: ServiceProcess;
  const deviceId = 'grbl-1';
  const link = path.join(os.tmpdir(), `labrun-grbl-${randomUUID().slice(0, 8)}`);

  beforeAll(async () => {
    url = (await startBroker()).url;
    await startService('engine', { MQTT_URL: url, DEVICE_ID: deviceId, ENGINE_ID: 'e-motion' });
    client = await connectTestClient(url);
    await client.subscribe([`hw/${deviceId}/state`]);
  });

  /** Where this test's messages start: hardware states from earlier tests must not satisfy its waits. */
  let mark = 0;

  beforeEach(async () => {
    mark = client.received.length;
    sim = await startGrblSim(link);
    hardware = await startService('hardware', { MQTT_URL: url, DEVICE_ID: deviceId, SERIAL_PATH: link });
    await hw((s) => s.connected === true);
  });

  afterEach(async () => {
    await hardware?.stop();
    await sim?.stop();
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
  });

  async function startRun(commands: unknown[]) {
    const runId = `m-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
    await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'motion' }, commands } });
    await client.publish(`run/${runId}/actions`, 'play');
    return runId;
  }
  const status = async (runId: string, predicate: (s: RunStatusDocument) => boolean, timeoutMs = 15_000): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => predicate(m.json()), timeoutMs)).json();
  /** The first hardware state satisfying `predicate` received after `since` (by default, since this test began). */
  const hw = async (predicate: (s: HardwareState) => boolean, since = mark): Promise<HardwareState> =>
    (await client.waitFor(`hw/${deviceId}/state`, (m) => client.received.indexOf(m) >= since && m.text !== '' && predicate(m.json()), 15_000)).json();
  const latestHw = (): HardwareState => client.messages(`hw/${deviceId}/state`).at(-1)!.json();
  const events = (runId: string): RunEvent[] => client.messages(`run/${runId}/events`).map((m) => m.json());
  const act = (runId: string, payload: string | object) => client.publish(`run/${runId}/actions`, payload);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('pauses a long move mid-way with a feed hold, holds position while paused, and reaches the target after resume', async () => {
    const runId = await startRun([{ type: 'home' }, { type: 'move', params: { x: 200, feed: 4000 } }]); // 3 s of motion
    await status(runId, (s) => s.current?.type === 'move');
    await hw((s) => s.machine === 'Run' && s.position.x > 30);
    await act(runId, { type: 'pause', by: 'operator' });
    await status(runId, (s) => s.status === 'pausing');
    const paused = await status(runId, (s) => s.status === 'paused');
    expect(paused.pause).toMatchObject({ source: 'user', by: 'operator' });
    expect(paused.current).toMatchObject({ index: 1, type: 'move' });
    await hw((s) => s.machine === 'Hold');
    await sleep(1000); // the feed hold decelerates the machine, and each position on the way is published
    const held = latestHw();
    expect(held.position.x).toBeGreaterThan(30);
    expect(held.position.x).toBeLessThan(200);
    await sleep(1000);
    expect(latestHw().position.x).toBe(held.position.x);
    await act(runId, 'resume');
    await status(runId, (s) => s.status === 'succeeded');
    expect((await hw((s) => s.machine === 'Idle' && s.position.x === 200)).position).toEqual({ x: 200, y: 0, z: 0 });
  });

  it('stop mid-move keeps the position, raises no alarm, and fails the move "run stopped"', async () => {
    const runId = await startRun([{ type: 'home' }, { type: 'move', params: { x: 200, feed: 4000 } }]);
    await hw((s) => s.machine === 'Run' && s.position.x > 30);
    const stoppedAt = client.received.length;
    await act(runId, 'stop');
    await status(runId, (s) => s.status === 'stopped');
    expect(events(runId).find((e) => e.type === 'command.failed')).toMatchObject({ index: 1, message: 'run stopped' });
    const after = await hw((s) => s.machine === 'Idle', stoppedAt);
    expect(after.alarm).toBeNull();
    expect(after.position.x).toBeGreaterThan(30);
    expect(after.position.x).toBeLessThan(200);
    expect(after.homed).toBe(true);
  });

  it('the door blocks the run; closing it leaves the run paused; motion restarts only on resume', async () => {
    const runId = await startRun([{ type: 'home' }, { type: 'move', params: { x: 150, feed: 3000 } }]);
    await hw((s) => s.machine === 'Run' && s.position.x > 20);
    sim.control('door open');
    const blocked = await status(runId, (s) => s.status === 'blocked');
    expect(blocked.pause).toMatchObject({ source: 'interlock', message: 'door open' });
    await act(runId, { type: 'resume', id: 'too-early' });
    expect((await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'too-early')).json()).toMatchObject({ type: 'action.rejected', code: 'interlock-active' });
    sim.control('door close');
    const paused = await status(runId, (s) => s.status === 'paused');
    expect(paused.pause).toMatchObject({ source: 'interlock', message: 'door closed: check the machine, then resume' });
    const waiting = latestHw().position.x;
    await sleep(800);
    expect(latestHw().position.x).toBe(waiting); // nothing moves by itself
    await act(runId, 'resume');
    await status(runId, (s) => s.status === 'succeeded');
    expect((await hw((s) => s.position.x === 150)).position.x).toBe(150);
  });

  it("refuses at create a run that would leave the machine's travel, naming the command and the travel; the edge itself is allowed", async () => {
    const travel = (await hw((s) => s.travel !== undefined)).travel!;
    // The simulator's GRBL: $130=300, $131=300, $132=100, every axis homed towards - ($23=7) with 1 mm pull-off.
    expect(travel).toEqual({ min: { x: -1, y: -1, z: -1 }, max: { x: 299, y: 299, z: 99 } });
    const runId = `m-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/events`]);
    const protocol = {
      schemaVersion: 1,
      metadata: { name: 'off the deck' },
      labware: { plate1: { origin: { x: 210, y: 250, z: 10 }, rows: 8, columns: 12, spacing: { x: 9, y: 9 } } },
      commands: [{ type: 'home' }, { type: 'move', params: { x: 299, y: 299, z: 99 } }, { type: 'move', params: { to: 'plate1/A12' } }],
    };
    await client.publish(`run/${runId}/create`, { protocol });
    const rejected = (await client.waitFor(`run/${runId}/events`, () => true)).json();
    expect(rejected).toMatchObject({
      type: 'run.rejected',
      code: 'invalid-create',
      message: `cannot create run ${runId}: command 3 (move) goes to x=309 (plate1/A12), outside the travel of device ${deviceId}: x from -1 to 299 mm`,
    });
    // Without the well off the deck, the same protocol is created: the far corner of the travel is on it.
    const edgeRun = `m-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${edgeRun}/status`]);
    await client.publish(`run/${edgeRun}/create`, { protocol: { ...protocol, commands: protocol.commands.slice(0, 2) } });
    expect((await status(edgeRun, () => true)).status).toBe('idle');
  });

  it("a limit alarm waits for recovery with GRBL's message; skip marks the move skipped and the run succeeds", async () => {
    const runId = await startRun([{ type: 'home' }, { type: 'move', params: { x: 150, feed: 3000 } }]);
    await hw((s) => s.machine === 'Run' && s.position.x > 20);
    sim.control('limit x');
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery');
    expect(waiting).toMatchObject({
      error: { code: 'alarm', commandIndex: 1, attempt: 1, message: expect.stringMatching(/^ALARM:1 Hard limit triggered/) },
      current: { index: 1, type: 'move' },
      pause: { source: 'error', message: waiting.error!.message },
    });
    expect(waiting.allowedActions).toEqual(expect.arrayContaining(['stop', 'skip', 'home', 'unlock']));
    const alarmed = await hw((s) => s.alarm !== null);
    expect(alarmed).toMatchObject({ machine: 'Alarm', alarm: { code: 1, message: expect.stringMatching(/^Hard limit triggered/) } });
    // A hard limit loses position: a retry is refused until the machine is homed, and an unlock does not change that.
    expect(waiting).toMatchObject({ error: { positionLost: true }, recovery: { needsHome: true } });
    expect(waiting.allowedActions).not.toContain('retry');
    await act(runId, { type: 'retry', id: 'lost' });
    expect((await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'lost')).json()).toMatchObject({ type: 'action.rejected', code: 'needs-home' });
    await act(runId, 'unlock');
    const unlocked = await status(runId, (s) => s.recovery?.fixit?.action === 'unlock' && s.recovery.fixit.ok !== null);
    expect(unlocked).toMatchObject({ recovery: { needsHome: true, fixit: { ok: true } } });
    await act(runId, 'skip');
    await status(runId, (s) => s.status === 'succeeded');
    expect(
      events(runId)
        .filter((e) => e.type.startsWith('command.') && 'index' in e && e.index === 1)
        .map((e) => e.type),
    ).toEqual(['command.started', 'command.failed', 'command.skipped']);
  });

  it('a limit switch tripping mid-move (ALARM:1) needs home before the retry, which then finishes the move', async () => {
    const runId = await startRun([{ type: 'home' }, { type: 'move', params: { x: 150, feed: 3000 } }]);
    await hw((s) => s.machine === 'Run' && s.position.x > 20);
    sim.control('limit x');
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery');
    expect(waiting).toMatchObject({ error: { code: 'alarm', positionLost: true, message: expect.stringMatching(/^ALARM:1/) }, recovery: { needsHome: true } });
    await act(runId, 'home');
    await status(runId, (s) => s.recovery?.fixit?.ok === true && s.recovery.needsHome === false);
    await act(runId, 'retry');
    await status(runId, (s) => s.status === 'succeeded');
    expect((await hw((s) => s.position.x === 150)).position.x).toBe(150);
  });

  it("a line GRBL refuses (error:N) waits for recovery with GRBL's words; retry sends it again and succeeds", async () => {
    const runId = await startRun([{ type: 'home' }, { type: 'pause', params: { message: 'inject' } }, { type: 'move', params: { x: 20, feed: 3000 } }]);
    await status(runId, (s) => s.status === 'paused');
    sim.control('error 20'); // the next line GRBL reads is the move's
    await act(runId, 'resume');
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery');
    expect(waiting.error).toMatchObject({ code: 'grbl-error', commandIndex: 2, message: expect.stringContaining('error:20') });
    await act(runId, 'retry');
    await status(runId, (s) => s.status === 'succeeded');
    expect(
      events(runId)
        .filter((e) => e.type === 'command.started' && e.index === 2)
        .map((e) => ('attempt' in e ? (e.attempt ?? 1) : 1)),
    ).toEqual([1, 2]);
  });

  it('a limit alarm fails the run at once when its policy says fail', async () => {
    const runId = `m-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
    const commands = [{ type: 'home' }, { type: 'move', params: { x: 150, feed: 3000 } }];
    await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'motion' }, commands }, errorRecovery: { default: 'fail' } });
    await act(runId, 'play');
    await hw((s) => s.machine === 'Run' && s.position.x > 20);
    sim.control('limit x');
    const failed = await status(runId, (s) => s.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'alarm', commandIndex: 1, message: expect.stringMatching(/^ALARM:1 Hard limit triggered/) });
  });

  it('a controller that disconnects mid-move waits for recovery; once it is back, home then retry finishes the move', async () => {
    const runId = await startRun([{ type: 'home' }, { type: 'move', params: { x: 200, feed: 3000 } }]);
    await hw((s) => s.machine === 'Run' && s.position.x > 20);
    await sim.kill();
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery' && s.interlock !== null);
    expect(waiting).toMatchObject({ error: { code: 'disconnected', commandIndex: 1 }, pause: { source: 'error' }, current: { index: 1, type: 'move' } });
    expect(waiting.pause!.reasons.map((r) => r.source).sort()).toEqual(['error', 'interlock']);
    expect(waiting.allowedActions).toEqual(['stop', 'skip']);
    await hw((s) => s.connected === false);
    sim = await startGrblSim(link);
    await hw((s) => s.connected === true);
    const back = await status(runId, (s) => s.status === 'awaiting-recovery' && s.interlock === null);
    expect(back.pause!.reasons.map((r) => r.source)).toEqual(['error']);
    await act(runId, 'home');
    await status(runId, (s) => s.recovery?.fixit?.action === 'home' && s.recovery.fixit.ok === true);
    await act(runId, 'retry');
    await status(runId, (s) => s.status === 'succeeded');
    expect((await hw((s) => s.position.x === 200)).position.x).toBe(200);
    expect(
      events(runId)
        .filter((e) => e.type === 'command.started' && e.index === 1)
        .map((e) => ('attempt' in e ? (e.attempt ?? 1) : 1)),
    ).toEqual([1, 2]);
  });
});
