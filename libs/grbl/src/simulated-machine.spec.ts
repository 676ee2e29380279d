// The GRBL simulator's timing and state machine, driven with fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { MachineAlarm, MotionAborted } from './motion-controller.js';
import { SimulatedMachine } from './simulated-machine.js';

/** Watch a promise without awaiting it, so a test can ask "has it settled yet?". */
function watch<T>(promise: Promise<T>) {
  const seen: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(seen, { settled: true, value }),
    (error: unknown) => Object.assign(seen, { settled: true, error }),
  );
  return seen;
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('SimulatedMachine', () => {
  let machine: SimulatedMachine;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-24T10:00:00.000Z'));
    machine = new SimulatedMachine();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes distance / feed to move and ends exactly at the target', async () => {
    const move = watch(machine.move({ x: 10, feed: 600 })); // 10 mm at 10 mm/s: 1 s
    expect(machine.state().machine).toBe('Run');
    await advance(999);
    expect(move.settled).toBe(false);
    await advance(1);
    expect(move.settled).toBe(true);
    expect((move.value as HardwareState).position).toEqual({ x: 10, y: 0, z: 0 });
    expect(machine.state()).toMatchObject({ machine: 'Idle', position: { x: 10, y: 0, z: 0 }, at: '2026-11-24T10:00:01.000Z' });
  });

  it('moves in a straight line, so the position mid-move is interpolated', async () => {
    void machine.move({ x: 30, y: 40, feed: 3000 }); // 50 mm at 50 mm/s: 1 s
    await advance(500);
    expect(machine.state().position).toEqual({ x: 15, y: 20, z: 0 });
    await advance(250);
    expect(machine.state().position).toEqual({ x: 22.5, y: 30, z: 0 });
  });

  it('moves at 1000 mm/min when no feed is given, and keeps the axes a move leaves out', async () => {
    void machine.move({ x: 5, y: 7, feed: 60_000 });
    await advance(1000);
    const move = watch(machine.move({ x: 15 })); // 10 mm at 1000 mm/min: 600 ms
    await advance(599);
    expect(move.settled).toBe(false);
    await advance(1);
    expect(machine.state().position).toEqual({ x: 15, y: 7, z: 0 });
  });

  it('runs queued moves in order, the next starting when the last ends', async () => {
    const first = watch(machine.move({ x: 10, feed: 600 }));
    const second = watch(machine.move({ y: 10, feed: 600 }));
    await advance(1500);
    expect(first.settled).toBe(true);
    expect(second.settled).toBe(false);
    expect(machine.state()).toMatchObject({ machine: 'Run', position: { x: 10, y: 5, z: 0 } });
    await advance(500);
    expect(second.settled).toBe(true);
    expect(machine.state()).toMatchObject({ machine: 'Idle', position: { x: 10, y: 10, z: 0 } });
  });

  it('stops short of the target on a feed hold and stays put while held', async () => {
    const move = watch(machine.move({ x: 10, feed: 600 }));
    await advance(400);
    const held = await machine.hold();
    expect(held).toMatchObject({ machine: 'Hold', position: { x: 4, y: 0, z: 0 } });
    await advance(5000);
    expect(move.settled).toBe(false);
    expect(machine.state()).toMatchObject({ machine: 'Hold', position: { x: 4, y: 0, z: 0 } });
  });

  it('finishes the held move at its target after release (cycle start)', async () => {
    const move = watch(machine.move({ x: 10, feed: 600 }));
    await advance(400);
    await machine.hold();
    await advance(2000);
    expect((await machine.release()).machine).toBe('Run');
    await advance(599);
    expect(move.settled).toBe(false);
    await advance(1);
    expect((move.value as HardwareState).position).toEqual({ x: 10, y: 0, z: 0 });
    expect(machine.state().machine).toBe('Idle');
  });

  it('stops mid-move keeping the position, rejects the move with "motion stopped" and raises no alarm', async () => {
    const move = watch(machine.move({ x: 10, feed: 600 }));
    const queued = watch(machine.move({ x: 20, feed: 600 }));
    await advance(250);
    const stopped = await machine.stop();
    await advance(0);
    expect(move.error).toBeInstanceOf(MotionAborted);
    expect((move.error as Error).message).toBe('motion stopped');
    expect(queued.error).toBeInstanceOf(MotionAborted);
    expect(stopped).toMatchObject({ machine: 'Idle', alarm: null, position: { x: 2.5, y: 0, z: 0 } });
    await advance(3000);
    expect(machine.state()).toMatchObject({ machine: 'Idle', alarm: null, position: { x: 2.5, y: 0, z: 0 } });
  });

  it('homes by travelling back to 0,0,0 at 3000 mm/min, then is homed', async () => {
    void machine.move({ x: 30, y: 40, feed: 60_000 });
    await advance(100);
    expect(machine.state().homed).toBe(false);
    const home = watch(machine.home()); // 50 mm at 50 mm/s: 1 s
    await advance(500);
    expect(machine.state()).toMatchObject({ machine: 'Home', position: { x: 15, y: 20, z: 0 }, homed: false });
    await advance(500);
    expect(home.settled).toBe(true);
    expect(machine.state()).toMatchObject({ machine: 'Idle', position: { x: 0, y: 0, z: 0 }, homed: true });
  });

  it('holds when the door opens mid-move, and stays held after it closes until release', async () => {
    const move = watch(machine.move({ x: 10, feed: 600 }));
    await advance(300);
    machine.setDoor(true);
    expect(machine.state()).toMatchObject({ machine: 'Door', door: 'open', position: { x: 3, y: 0, z: 0 } });
    await advance(1000);
    expect((await machine.release()).machine).toBe('Door'); // cycle start is ignored while the door is open
    machine.setDoor(false);
    await advance(1000);
    expect(machine.state()).toMatchObject({ machine: 'Hold', door: 'closed', position: { x: 3, y: 0, z: 0 } });
    expect(move.settled).toBe(false);
    await machine.release();
    await advance(700);
    expect((move.value as HardwareState).position).toEqual({ x: 10, y: 0, z: 0 });
  });

  it('freezes a dwell while held', async () => {
    const dwell = watch(machine.dwell(2));
    expect(machine.state().machine).toBe('Idle'); // GRBL reports Idle during G4
    await advance(1000);
    await machine.hold();
    await advance(5000);
    expect(dwell.settled).toBe(false);
    await machine.release();
    await advance(1000);
    expect(dwell.settled).toBe(true);
  });

  it('applies a feed hold sent during homing once homing ends, as GRBL does', async () => {
    void machine.move({ x: 30, feed: 60_000 });
    await advance(100);
    const home = watch(machine.home()); // 30 mm at 50 mm/s: 600 ms
    const next = watch(machine.move({ x: 5 }));
    await advance(100);
    const hold = watch(machine.hold());
    await advance(0);
    expect(hold.settled).toBe(false);
    expect(machine.state().machine).toBe('Home');
    await advance(500);
    expect(home.settled).toBe(true);
    expect((hold.value as HardwareState).machine).toBe('Hold');
    expect(next.settled).toBe(false);
  });

  it('raises ALARM:6 when the door opens during homing, and refuses moves until homed again', async () => {
    void machine.move({ x: 30, feed: 60_000 });
    await advance(100);
    const home = watch(machine.home());
    await advance(100);
    machine.setDoor(true);
    await advance(0);
    expect(home.error).toBeInstanceOf(MachineAlarm);
    expect(machine.state()).toMatchObject({ machine: 'Alarm', homed: false, alarm: { code: 6 } });
    await expect(machine.move({ x: 1 })).rejects.toThrow(/ALARM:6/);
    machine.setDoor(false);
    const again = watch(machine.home());
    await advance(1000);
    expect(again.settled).toBe(true);
    expect(machine.state()).toMatchObject({ machine: 'Idle', homed: true, alarm: null, position: { x: 0, y: 0, z: 0 } });
  });

  it('announces changes of machine state, not every step of position', async () => {
    const seen: string[] = [];
    machine.on('state', (s) => seen.push(s.machine));
    void machine.move({ x: 10, feed: 600 });
    await advance(500);
    await machine.hold();
    await machine.release();
    await advance(1000);
    expect(seen).toEqual(['Run', 'Hold', 'Run', 'Idle']);
  });
});
