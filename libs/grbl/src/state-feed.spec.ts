// The state feed: on every change, and 5 times a second while moving.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HardwareState, MachineState } from '@labrun/contracts';
import type { MotionController, StateListener } from './motion-controller.js';
import { followState } from './state-feed.js';

/** A controller whose state the test sets; `change` announces it, as a controller does on a change of machine state. */
function scriptedController() {
  const listeners = new Set<StateListener>();
  let current: HardwareState = { connected: true, machine: 'Idle', position: { x: 0, y: 0, z: 0 }, homed: true, door: 'closed', alarm: null, at: '2026-11-24T10:00:00.000Z' };
  const controller = {
    state: () => current,
    on: (_: 'state', l: StateListener) => listeners.add(l),
    off: (_: 'state', l: StateListener) => listeners.delete(l),
  } as unknown as MotionController;
  return {
    controller,
    at(x: number) {
      current = { ...current, position: { x, y: 0, z: 0 } };
    },
    change(machine: MachineState) {
      current = { ...current, machine };
      for (const l of listeners) l(current);
    },
  };
}

describe('followState', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('publishes the state now, every 200 ms while moving, a final one when motion ends, and nothing while idle', async () => {
    const machine = scriptedController();
    const published: HardwareState[] = [];
    const stop = followState(machine.controller, (s) => published.push(s));
    expect(published.map((s) => s.machine)).toEqual(['Idle']);
    machine.change('Run');
    for (let t = 1; t <= 5; t++) {
      machine.at(t * 2 - 0.5);
      await vi.advanceTimersByTimeAsync(200);
    }
    machine.at(10);
    machine.change('Idle');
    expect(published.map((s) => s.machine)).toEqual(['Idle', 'Run', 'Run', 'Run', 'Run', 'Run', 'Run', 'Idle']);
    expect(published.map((s) => s.position.x)).toEqual([0, 0, 1.5, 3.5, 5.5, 7.5, 9.5, 10]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(published).toHaveLength(8);
    stop();
    machine.change('Run');
    expect(published).toHaveLength(8);
  });

  it('publishes the deceleration after a feed hold, and the position where it stopped, then nothing while at rest', async () => {
    const machine = scriptedController();
    const published: HardwareState[] = [];
    followState(machine.controller, (s) => published.push(s));
    machine.change('Run');
    machine.at(5);
    machine.change('Hold'); // Hold:1, still decelerating
    for (const x of [5.4, 5.7, 5.8]) {
      machine.at(x);
      await vi.advanceTimersByTimeAsync(200);
    }
    await vi.advanceTimersByTimeAsync(2000);
    expect(published.map((s) => [s.machine, s.position.x])).toEqual([
      ['Idle', 0],
      ['Run', 0],
      ['Hold', 5],
      ['Hold', 5.4],
      ['Hold', 5.7],
      ['Hold', 5.8],
    ]);
  });
});
