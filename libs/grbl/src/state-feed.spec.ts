// The state feed: on every change, and 5 times a second while moving.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { followState } from './state-feed.js';
import { SimulatedMachine } from './simulated-machine.js';

describe('followState', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('publishes the state now, every 200 ms while moving, a final one when motion ends, and nothing while idle', async () => {
    const machine = new SimulatedMachine();
    const published: HardwareState[] = [];
    const stop = followState(machine, (s) => published.push(s));
    expect(published.map((s) => s.machine)).toEqual(['Idle']);
    void machine.move({ x: 10, feed: 600 }); // 1 s
    await vi.advanceTimersByTimeAsync(1000);
    expect(published.map((s) => s.machine)).toEqual(['Idle', 'Run', 'Run', 'Run', 'Run', 'Run', 'Idle']);
    expect(published.map((s) => s.position.x)).toEqual([0, 0, 2, 4, 6, 8, 10]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(published).toHaveLength(7);
    stop();
    void machine.move({ x: 0 });
    expect(published).toHaveLength(7);
  });
});
