// A line being executed, as a list of steps the main loop works through. GRBL runs a line to the end before it
// reads the next, waiting inside it where needed (for room in the planner, for motion to finish, for a dwell,
// for a homing cycle, for cycle start after M0); the simulator does the same without blocking Node's event loop:
// a step that must wait is tried again whenever something changes.
import type { Status } from './codes.js';
import type { GcodeStep } from './gcode.js';

export type Step =
  | GcodeStep
  /** `$H`: the homing cycle. */
  | { kind: 'home' }
  /** Run the stored startup lines (`$N0`, `$N1`), each reported as `>line:ok` or `>line:error:N`. */
  | { kind: 'startupLines' }
  /** Something that happens at once, in order with the rest (a message, storing a setting). */
  | { kind: 'call'; run: () => void };

export interface Job {
  steps: Step[];
  index: number;
  /** Progress within the current step; 0 when it starts. */
  phase: number;
  /** A dwell's time left (ms) and, while it counts down, when it last resumed. */
  dwell: { remaining: number; resumedAt: number | null } | null;
  /** Reports the line's result: `ok` / `error:N`, or nothing for the startup lines run after a reset. */
  finish: (status: Status) => void;
}

export function newJob(steps: Step[], finish: (status: Status) => void): Job {
  return { steps, index: 0, phase: 0, dwell: null, finish };
}
