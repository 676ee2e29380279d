// A service user held to devices, publish by publish: what an engine of a fleet may say, and what it may not.
import { describe, expect, it } from 'vitest';
import { devicePublish, deviceListProblem, RunDevices, statusNote, type DeviceVerdict } from './devices.js';

const E1 = new Set(['d1']);
const status = (runId: string, deviceId: string) => JSON.stringify({ runId, status: 'running', deviceId, engineId: 'e1', seq: 3 });
const event = (runId: string, type: string, extra: Record<string, unknown> = {}) => JSON.stringify({ runId, seq: 2, at: '2026-12-04T10:00:00.000Z', type, ...extra });

/** Ask, and make the note the broker would make when the publish goes through. */
function publish(runs: RunDevices, topic: string, payload: string, devices: ReadonlySet<string> = E1): DeviceVerdict {
  const verdict = devicePublish(devices, topic, payload, runs);
  if (verdict.allowed && verdict.note) runs.note(verdict.note);
  return verdict;
}
const allowed = (verdict: DeviceVerdict) => verdict.allowed;
const why = (verdict: DeviceVerdict) => (verdict.allowed ? undefined : verdict.why);

describe('topics that name the device', () => {
  const runs = new RunDevices();
  for (const kind of ['requests', 'state', 'online']) {
    it(`lets hw/d1/${kind} through and refuses hw/d2/${kind}`, () => {
      expect(allowed(publish(runs, `hw/d1/${kind}`, '{}'))).toBe(true);
      expect(why(publish(runs, `hw/d2/${kind}`, '{}'))).toBe("device d2 is not one of this user's devices (d1)");
    });
  }
  it('lets device/d1/current through (and its clearing) and refuses device/d2/current', () => {
    expect(allowed(publish(runs, 'device/d1/current', status('r-1', 'd1')))).toBe(true);
    expect(allowed(publish(runs, 'device/d1/current', ''))).toBe(true);
    expect(allowed(publish(runs, 'device/d2/current', status('r-2', 'd2')))).toBe(false);
  });
  it('leaves lab/#, online flags and replies to the role', () => {
    for (const topic of ['lab/plate-reader/go', 'engine/e1/online', 'engine/e9/replies', 'gateway/g/online']) expect(allowed(publish(runs, topic, 'x')), topic).toBe(true);
  });
});

describe('run statuses', () => {
  it('lets a status for a run on its device through, and refuses one for a run on another device', () => {
    const runs = new RunDevices();
    expect(publish(runs, 'run/r-1/status', status('r-1', 'd1'))).toEqual({ allowed: true, note: { runId: 'r-1', deviceId: 'd1' } });
    expect(why(publish(runs, 'run/r-2/status', status('r-2', 'd2')))).toBe("device d2 is not one of this user's devices (d1)");
    expect(runs.get('r-1')).toEqual({ deviceId: 'd1', cleared: false });
    expect(runs.get('r-2')).toBeUndefined();
  });

  it('refuses a status that names no readable device', () => {
    const runs = new RunDevices();
    expect(why(publish(runs, 'run/r-1/status', 'running'))).toBe('the status document is not JSON, so it names no device');
    expect(why(publish(runs, 'run/r-1/status', '[1]'))).toBe('the status document is not a JSON object, so it names no device');
    expect(why(publish(runs, 'run/r-1/status', '{"runId":"r-1"}'))).toBe('the status document names no valid deviceId');
    expect(why(publish(runs, 'run/r-1/status', '{"deviceId":"a/b"}'))).toBe('the status document names no valid deviceId');
  });

  it("refuses to overwrite the status of another device's run by naming its own device", () => {
    const runs = new RunDevices();
    runs.note({ runId: 'r-2', deviceId: 'd2' }); // e2's status, let through
    expect(why(publish(runs, 'run/r-2/status', status('r-2', 'd1')))).toBe("run r-2 is on device d2, not one of this user's devices (d1)");
    // Once that run is gone (its status cleared), the id is free again.
    runs.note({ runId: 'r-2', cleared: true });
    expect(allowed(publish(runs, 'run/r-2/status', status('r-2', 'd1')))).toBe(true);
  });

  it('lets it clear only the statuses of runs on its devices', () => {
    const runs = new RunDevices();
    expect(why(publish(runs, 'run/r-1/status', ''))).toBe("clearing a run's status: the broker has seen no status of run r-1 on this user's devices");
    publish(runs, 'run/r-1/status', status('r-1', 'd1'));
    runs.note({ runId: 'r-2', deviceId: 'd2' });
    expect(publish(runs, 'run/r-1/status', '')).toEqual({ allowed: true, note: { runId: 'r-1', cleared: true } });
    expect(runs.get('r-1')).toEqual({ deviceId: 'd1', cleared: true });
    expect(why(publish(runs, 'run/r-2/status', ''))).toBe("clearing a run's status: run r-2 is on device d2, not one of this user's devices (d1)");
    // The commands document goes right after the status (the engine clears both when it forgets a run).
    expect(allowed(publish(runs, 'run/r-1/commands', ''))).toBe(true);
  });
});

describe('run commands, events and actions', () => {
  const runs = new RunDevices();
  runs.note({ runId: 'r-1', deviceId: 'd1' });
  runs.note({ runId: 'r-2', deviceId: 'd2' });

  it('lets commands documents through for runs on its devices only', () => {
    expect(allowed(publish(runs, 'run/r-1/commands', '{"runId":"r-1","seq":1,"commands":[]}'))).toBe(true);
    expect(why(publish(runs, 'run/r-2/commands', '{"runId":"r-2","seq":1,"commands":[]}'))).toBe("run r-2 is on device d2, not one of this user's devices (d1)");
    expect(why(publish(runs, 'run/r-9/commands', '{}'))).toBe("the broker has seen no status of run r-9 on this user's devices");
  });

  it('lets events through for runs on its devices only', () => {
    expect(allowed(publish(runs, 'run/r-1/events', event('r-1', 'command.started', { index: 0, commandType: 'home' })))).toBe(true);
    expect(allowed(publish(runs, 'run/r-2/events', event('r-2', 'command.started', { index: 0, commandType: 'home' })))).toBe(false);
    expect(allowed(publish(runs, 'run/r-9/events', event('r-9', 'command.started', { index: 0, commandType: 'home' })))).toBe(false);
    expect(why(publish(runs, 'run/r-1/events', 'not json'))).toBe('the event is not JSON');
  });

  it('lets a run.created through for its devices, before any status (the engine publishes it first), and learns the run from it', () => {
    const fresh = new RunDevices();
    expect(publish(fresh, 'run/r-5/events', event('r-5', 'run.created', { deviceId: 'd1' }))).toEqual({ allowed: true, note: { runId: 'r-5', deviceId: 'd1' } });
    expect(allowed(publish(fresh, 'run/r-5/events', event('r-5', 'action.accepted')))).toBe(true);
    expect(why(publish(fresh, 'run/r-6/events', event('r-6', 'run.created', { deviceId: 'd2' })))).toBe("device d2 is not one of this user's devices (d1)");
  });

  it("lets every run.rejected through: an engine answers run-exists for a create naming its device whose id another device's run has", () => {
    expect(allowed(publish(runs, 'run/r-2/events', event('r-2', 'run.rejected', { code: 'run-exists', message: '…' })))).toBe(true);
    expect(allowed(publish(runs, 'run/r-9/events', event('r-9', 'run.rejected', { code: 'unknown-device', message: '…' })))).toBe(true);
  });

  it('lets an action.rejected through for a run nobody holds (the leader answers unknown-run), not for a run on another device', () => {
    expect(allowed(publish(runs, 'run/r-9/events', event('r-9', 'action.rejected', { code: 'unknown-run' })))).toBe(true);
    expect(allowed(publish(runs, 'run/r-1/events', event('r-1', 'action.rejected', { code: 'not-paused' })))).toBe(true);
    expect(allowed(publish(runs, 'run/r-2/events', event('r-2', 'action.rejected', { code: 'unknown-run' })))).toBe(false);
  });

  it('lets it send creates for its devices and actions for runs on them only', () => {
    expect(allowed(publish(runs, 'run/r-7/create', JSON.stringify({ protocol: {}, deviceId: 'd1' })))).toBe(true);
    expect(allowed(publish(runs, 'run/r-7/create', JSON.stringify({ protocol: {}, deviceId: 'd2' })))).toBe(false);
    expect(why(publish(runs, 'run/r-7/create', JSON.stringify({ protocol: {} })))).toBe('the create request names no valid deviceId: a user held to devices must name one of its own');
    expect(allowed(publish(runs, 'run/r-1/actions', 'stop'))).toBe(true);
    expect(allowed(publish(runs, 'run/r-2/actions', 'stop'))).toBe(false);
  });
});

describe('engine announcements', () => {
  const runs = new RunDevices();
  const announce = (devices: string[], standby: { deviceId: string; servedBy: string }[] = []) => JSON.stringify({ engineId: 'e1', devices, standby, activeRuns: 0 });
  it('lets an engine announce its own devices only: a device it announces is one the fleet lets it carry out', () => {
    expect(allowed(publish(runs, 'engine/e1/status', announce(['d1'])))).toBe(true);
    expect(allowed(publish(runs, 'engine/e1/status', announce([], [{ deviceId: 'd1', servedBy: 'e0' }])))).toBe(true);
    expect(why(publish(runs, 'engine/e1/status', announce(['d1', 'd2'])))).toBe("announces device d2 is not one of this user's devices (d1)");
    expect(allowed(publish(runs, 'engine/e1/status', announce([], [{ deviceId: 'd2', servedBy: 'e2' }])))).toBe(false);
    expect(allowed(publish(runs, 'engine/e1/status', ''))).toBe(true);
    expect(allowed(publish(runs, 'engine/e1/status', '{"devices":"d2"}'))).toBe(false);
  });
});

describe('RunDevices', () => {
  it('keeps at most its bound, forgetting the run heard of longest ago', () => {
    const runs = new RunDevices(2);
    runs.note({ runId: 'a', deviceId: 'd1' });
    runs.note({ runId: 'b', deviceId: 'd1' });
    runs.note({ runId: 'a', deviceId: 'd1' }); // heard of again
    runs.note({ runId: 'c', deviceId: 'd1' });
    expect(runs.size).toBe(2);
    expect(runs.get('b')).toBeUndefined();
    expect(runs.get('a')).toBeDefined();
  });
  it('ignores the clearing of a run it does not know', () => {
    const runs = new RunDevices();
    runs.note({ runId: 'a', cleared: true });
    expect(runs.size).toBe(0);
  });
});

describe('statusNote (statuses from users that may act for every device)', () => {
  it('reads the device of a status, the clearing of one, and nothing from anything else', () => {
    expect(statusNote('run/r-1/status', status('r-1', 'd2'))).toEqual({ runId: 'r-1', deviceId: 'd2' });
    expect(statusNote('run/r-1/status', '')).toEqual({ runId: 'r-1', cleared: true });
    expect(statusNote('run/r-1/status', 'garbage')).toBeUndefined();
    expect(statusNote('run/r-1/events', status('r-1', 'd2'))).toBeUndefined();
  });
});

describe('deviceListProblem', () => {
  it('takes device ids, none twice, at least one', () => {
    expect(deviceListProblem(['robot-1', 'robot-2'])).toBeUndefined();
    expect(deviceListProblem([])).toMatch(/at least one device id/);
    expect(deviceListProblem(['robot-1', 'robot-1'])).toBe('names device robot-1 twice');
    expect(deviceListProblem(['hw/1'])).toMatch(/not a valid device id "hw\/1": device id must not contain/);
    expect(deviceListProblem(['$sys'])).toMatch(/must not start with/);
  });
});
