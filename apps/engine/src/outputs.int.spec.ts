// Device outputs end to end: the broker, the engine and the hardware service on its built-in GRBL simulator (a
// pump on the spindle, a valve on flood coolant), over plain MQTT. A protocol's `set-output pump 0.5` shows in the
// retained hw/<dev>/state, and whatever the run switched on is off again once it ends — succeeded, stopped or
// failed. An output the device does not offer is answered by the device, at run time, into error recovery.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HardwareState, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll, type TestClient } from '@labrun/testkit';

describe('set-output on the simulator, over MQTT', () => {
  let client: TestClient;
  let url: string;
  const deviceId = `sim-out-${randomUUID().slice(0, 6)}`;
  const pump = (value: number) => ({ type: 'set-output', params: { output: 'pump', value } });
  const valve = (value: number) => ({ type: 'set-output', params: { output: 'valve', value } });

  beforeAll(async () => {
    url = (await startBroker()).url;
    await startService('engine', { MQTT_URL: url, ENGINE_ID: 'e-outputs', DEVICE_ID: deviceId });
    await startService('hardware', { MQTT_URL: url, DEVICE_ID: deviceId });
    client = await connectTestClient(url);
    await client.subscribe(`hw/${deviceId}/state`);
    await hw((s) => s.connected, 0);
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
  });

  async function start(commands: unknown[], extra: object = {}): Promise<string> {
    const runId = `out-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
    await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'outputs' }, commands }, ...extra });
    await client.publish(`run/${runId}/actions`, 'play');
    return runId;
  }
  const status = async (runId: string, predicate: (s: RunStatusDocument) => boolean): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && predicate(m.json()), 20_000)).json();
  /** Where the first hardware state from `since` on (a position in everything received) that satisfies `predicate` is. */
  const hwAt = async (predicate: (s: HardwareState) => boolean, since: number): Promise<number> =>
    client.received.indexOf(await client.waitFor(`hw/${deviceId}/state`, (m) => m.text !== '' && client.received.indexOf(m) >= since && predicate(m.json()), 20_000));
  const hw = async (predicate: (s: HardwareState) => boolean, since: number): Promise<HardwareState> => client.received[await hwAt(predicate, since)]!.json();
  const events = (runId: string): RunEvent[] => client.messages(`run/${runId}/events`).map((m) => m.json());

  it('shows the pump at 0.5 in hw/<dev>/state while the protocol runs, and switches it off when the run succeeds', async () => {
    const mark = client.received.length;
    const runId = await start([{ type: 'home' }, pump(0.5), { type: 'delay', params: { seconds: 1 } }, { type: 'comment', params: { message: 'done' } }]);
    expect(await hw((s) => s.outputs?.pump === 0.5, mark)).toMatchObject({ outputs: { pump: 0.5, valve: 0 } });
    const done = await status(runId, (s) => s.status === 'succeeded');
    const ended = client.received.findIndex((m) => m.topic === `run/${runId}/status` && m.json().seq === done.seq);
    expect(await hw((s) => s.outputs?.pump === 0, ended)).toMatchObject({ outputs: { pump: 0, valve: 0 } });
    expect(events(runId).find((e) => e.type === 'command.succeeded' && e.index === 1)).toBeDefined();
  });

  it('switches the pump and the valve off when the run is stopped, not when it pauses', async () => {
    const mark = client.received.length;
    const runId = await start([{ type: 'home' }, pump(0.5), valve(1), { type: 'pause', params: { message: 'Check the flow' } }, pump(0)]);
    await status(runId, (s) => s.status === 'paused' && s.pause?.source === 'protocol');
    expect(await hw((s) => s.outputs?.pump === 0.5 && s.outputs?.valve === 1, mark)).toMatchObject({ connected: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(client.messages(`hw/${deviceId}/state`).at(-1)!.json().outputs).toEqual({ pump: 0.5, valve: 1 }); // a pause leaves them on
    const stopping = client.received.length;
    await client.publish(`run/${runId}/actions`, 'stop');
    await status(runId, (s) => s.status === 'stopped');
    expect(await hw((s) => s.outputs?.pump === 0 && s.outputs?.valve === 0, stopping)).toMatchObject({ outputs: { pump: 0, valve: 0 } });
  });

  it('switches off what a raw G-code block switched on (M3 spindle: the pump, M8 flood: the valve) when the run ends', async () => {
    const mark = client.received.length;
    const runId = await start([{ type: 'home' }, { type: 'gcode', params: { lines: ['M3 S500', 'M8'] } }, { type: 'delay', params: { seconds: 1 } }, { type: 'comment', params: { message: 'done' } }]);
    expect(await hw((s) => s.outputs?.pump === 0.5 && s.outputs?.valve === 1, mark)).toMatchObject({ connected: true });
    const done = await status(runId, (s) => s.status === 'succeeded');
    const ended = client.received.findIndex((m) => m.topic === `run/${runId}/status` && m.json().seq === done.seq);
    expect(await hw((s) => s.outputs?.pump === 0 && s.outputs?.valve === 0, ended)).toMatchObject({ outputs: { pump: 0, valve: 0 } });
  });

  it('answers an output the device does not offer at run time: the run awaits recovery with unknown-output, and skip goes on', async () => {
    const runId = await start([
      { type: 'set-output', params: { output: 'heater', value: 1 } },
      { type: 'comment', params: { message: 'after' } },
    ]);
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery');
    expect(waiting.error).toMatchObject({ code: 'unknown-output', message: `there is no output "heater" on this device: its outputs are pump, valve`, commandIndex: 0 });
    await client.publish(`run/${runId}/actions`, 'skip');
    await status(runId, (s) => s.status === 'succeeded');
  });

  it('switches the pump on again when the run goes on after the alarm that switched it off (home, then skip)', async () => {
    const mark = client.received.length;
    const runId = await start([
      { type: 'home' },
      pump(1),
      { type: 'gcode', params: { lines: ['G1 X1000 F10000'] } },
      { type: 'delay', params: { seconds: 2 } },
      { type: 'comment', params: { message: 'done' } },
    ]);
    const on = await hwAt((s) => s.outputs?.pump === 1, mark);
    await status(runId, (s) => s.status === 'awaiting-recovery' && s.error?.code === 'alarm');
    const off = await hwAt((s) => s.outputs?.pump === 0, on);
    await client.publish(`run/${runId}/actions`, 'home');
    await status(runId, (s) => s.recovery?.fixit?.ok === true);
    await client.publish(`run/${runId}/actions`, 'skip');
    await status(runId, (s) => s.status === 'running' && s.current?.type === 'delay');
    // On again while the delay runs, and off once the run has ended.
    const again = await hwAt((s) => s.outputs?.pump === 1, off);
    const done = await status(runId, (s) => s.status === 'succeeded');
    const ended = client.received.findIndex((m) => m.topic === `run/${runId}/status` && m.json().seq === done.seq);
    expect(again).toBeLessThan(ended);
    expect(await hw((s) => s.outputs?.pump === 0, ended)).toMatchObject({ outputs: { pump: 0 } });
  });

  it('leaves the pump off when the run fails: the alarm that failed it made GRBL switch everything off', async () => {
    const mark = client.received.length;
    // Far beyond the travel (raw G-code, which is not checked against it at create): GRBL stops at the limit switch
    // (ALARM:1) and resets.
    const runId = await start([{ type: 'home' }, pump(1), { type: 'gcode', params: { lines: ['G1 X1000 F10000'] } }], { errorRecovery: { default: 'fail' } });
    const on = await hwAt((s) => s.outputs?.pump === 1, mark);
    const failed = await status(runId, (s) => s.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'alarm' });
    expect(await hw((s) => s.outputs?.pump === 0, on)).toMatchObject({ machine: 'Alarm', outputs: { pump: 0, valve: 0 } });
  });
});
