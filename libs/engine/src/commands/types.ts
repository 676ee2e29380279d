// What a command type is, in one place: its kind, what starting it means, how it reacts to the run's stop, pause
// and resume, what its hardware result keeps, and how it reads to people. step() consults these; the CLI and the
// dashboard describe commands with them. Browser-safe: type imports only.
import type { Command, CommandType, DeviceMove, GcodeAccessories, GcodeParams, HardwareState, MoveCommand, ProbeParams } from '@labrun/contracts';
import type { z } from 'zod';

export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

/** A move as a run hands it to its module: with the device move its well or relative offsets resolve to (state.ts commandAt). */
export type ResolvedMoveCommand = z.infer<typeof MoveCommand> & { target?: DeviceMove };

/**
 * `instant`: done as soon as it starts (a comment). `motion`: a request to the device (a move, an output), done
 * when the device answers. `wait`: the run waits in the engine (a protocol pause, a delay, and next: a wait for another instrument).
 */
export type CommandKind = 'instant' | 'motion' | 'wait';

/** A request to the device that carries out a device command (motion, an output) or a fixit action. */
export type HardwareCommand =
  | { op: 'home' }
  /** Absolute deck coordinates, rounded to GRBL's 0.001 mm, and a height to travel at when the move goes to labware. */
  | { op: 'move'; params: DeviceMove }
  | { op: 'unlock' }
  | { op: 'set-output'; output: string; value: number }
  /** Raw G-code lines, answered when all are done. */
  | { op: 'gcode'; params: z.infer<typeof GcodeParams> }
  /** GRBL `G38.2` toward a point; the answer's state says where the probe touched (`lastProbe`). */
  | { op: 'probe'; params: z.infer<typeof ProbeParams> };

/** What starting a command (or an attempt of it) means. */
export type StartPlan =
  /** Done at once. */
  | { kind: 'done' }
  /** Carried out by the device: done (or failed) when it answers. */
  | { kind: 'perform'; request: HardwareCommand }
  /** The run pauses with this message until someone resumes it, or (with a timeout) it resumes itself. */
  | { kind: 'pause'; message: string | null; timeoutSeconds: number | null }
  /** Done at once, having published a message for another system. */
  | { kind: 'publish'; topic: string; payload: string; retain: boolean }
  /** The run waits (paused, source external) for a message on `topic` (a filter) matching `field` = `equals`. */
  | { kind: 'wait'; topic: string; field: string | null; equals: unknown; message: string; timeoutSeconds: number | null; retained: boolean }
  /** A countdown that runs while the run runs and freezes while it is paused. */
  | { kind: 'countdown'; seconds: number; message: string | null };

/** How a command reads: `sentence` for the dashboard ("Move to X 10 at 600 mm/min"), `terse` for a terminal ("move x=10 F600"). */
export type DescribeStyle = 'sentence' | 'terse';

export interface CommandModule<T extends CommandType = CommandType> {
  readonly type: T;
  readonly kind: CommandKind;
  start(command: CommandOf<T>): StartPlan;
  /** A run's stop: `fail` it at once (nothing outside the engine to interrupt), or `abort` its device request and fail once stopped. */
  readonly onStop: 'fail' | 'abort';
  /** A user's pause: `hold` the device (feed hold; paused once held, or when it ends), or `freeze` (paused at once). */
  readonly onPause: 'hold' | 'freeze';
  /** A resume while it is current: `complete` it (a protocol pause ends with the resume) or `continue` it. */
  readonly onResume: 'complete' | 'continue';
  /**
   * A device command an engine restart interrupted (its start is in the journal, its end is not): `repeat` it on
   * resume, as doing it twice ends the same (a move to deck coordinates, homing, an output's level) — the default;
   * or `ask`: it fails with code `interrupted` into error recovery, for the operator to retry or skip, because it may
   * have run in part or in full and doing it again may not end the same (a raw G-code block, which may be relative).
   */
  readonly afterRestart?: 'repeat' | 'ask';
  /** What the device's answer keeps in `command.succeeded` (motion: where the machine ended up). */
  result?(state: HardwareState): Record<string, unknown>;
  /** The device output it switches, and to what: the run switches every output it left on off when it ends. */
  output?(command: CommandOf<T>): { output: string; value: number };
  /** What it may switch on by G-code rather than by output name (a raw block's M3, M8): switched off when the run ends. */
  accessories?(command: CommandOf<T>): GcodeAccessories;
  describe(command: CommandOf<T>, style: DescribeStyle): string;
}

export const seconds = (s: number) => `${Number.isInteger(s) ? s : s.toFixed(1)} s`;

const pad = (n: number) => String(n).padStart(2, '0');

/** How long, as a clock reads: 83 → "01:23"; an hour or more → "1:02:03" (the CLI's and the dashboard's timers). */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** Where the machine is after a motion command: what probing and checks need, without the whole state. */
export function positionResult(state: HardwareState): Record<string, unknown> {
  return state.machinePosition ? { position: state.position, machinePosition: state.machinePosition } : { position: state.position };
}
