// Time and timers as a value, so the engine and the simulator can be driven by fake clocks in tests.
// Shared here because every lib that waits on time uses the same shape.
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. The globals are looked up at call time, so vitest's fake timers replace them. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
