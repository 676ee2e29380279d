// One pending callback on the injectable clock, by absolute time: "wake me when the move ends at t = 1020.4 ms".
import type { Clock } from '@labrun/contracts';

export class Timer {
  private handle: unknown = null;
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  /** Call `callback` once the clock reaches `time` (ms), replacing anything scheduled before. */
  at(time: number, callback: () => void): void {
    this.cancel();
    if (this.stopped) return;
    // Timers count whole milliseconds; round up so the callback never runs before `time` (1e-6 absorbs float noise).
    const delay = Math.max(0, Math.ceil(time - this.clock.now() - 1e-6));
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      callback();
    }, delay);
  }

  cancel(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }

  /** Cancel, and refuse anything scheduled later: the simulator is closing. */
  stop(): void {
    this.cancel();
    this.stopped = true;
  }
}
