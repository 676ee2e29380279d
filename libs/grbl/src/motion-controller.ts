// The seam between the hardware service and a motion controller: what the service asks of the machine. The
// implementation is GrblController (driver/), on a GRBL 1.1 controller or the GRBL simulator.
import type { HardwareState, Position } from '@labrun/contracts';

/** An absolute move in machine coordinates (mm); a missing axis stays where it is. `feed` is in mm/min (G-code's F). */
export interface MoveTarget {
  x?: number | undefined;
  y?: number | undefined;
  z?: number | undefined;
  feed?: number | undefined;
  /** Rise to this height first, then move across in x and y, then descend to z: a safe travel over labware. */
  travelZ?: number | undefined;
}

/** A probe's target: at least one axis, in machine coordinates like MoveTarget, and the feed it probes at (mm/min). */
export interface ProbeTarget {
  x?: number | undefined;
  y?: number | undefined;
  z?: number | undefined;
  feed: number;
}

export type StateListener = (state: HardwareState) => void;

/**
 * A motion controller, modelled on GRBL. `home`, `move`, `dwell` and `setOutput` are buffered, like G-code lines streamed into
 * GRBL's planner: they run one after another in call order, and each promise settles when that one is done.
 * `hold`, `release` and `stop` act at once, like GRBL's real-time commands (`!`, `~`, and feed hold + soft reset).
 * Every operation resolves with the machine's state at the moment it is done.
 */
export interface MotionController {
  /** Homing cycle (`$H`): find the machine origin, then `homed` is true. Also the way out of an alarm. */
  home(): Promise<HardwareState>;
  /**
   * Leave an alarm without homing (`$X`). The machine takes commands again, but a position the alarm lost stays
   * lost: `homed` stays false where it was false, and moves stay refused (`not-homed`) until `home()`.
   */
  unlock(): Promise<HardwareState>;
  /** A straight move (`G1`) to the target at `feed` mm/min; resolves when the motion has completed. */
  move(target: MoveTarget): Promise<HardwareState>;
  /** Wait in place (`G4 P<seconds>`) once the moves before it have finished. A hold freezes the countdown. */
  dwell(seconds: number): Promise<HardwareState>;
  /**
   * Switch a device output by its lab name (`pump`) to `value`, 0 off to 1 fully on; buffered like a move (GRBL
   * switches spindle and coolant once the moves before have finished). An unknown name rejects with UnknownOutput
   * (`unknown-output`), a value the output does not take with a RangeError. Outputs are off already in an alarm
   * (GRBL's reset switched them off): switching one off then resolves at once.
   */
  setOutput(output: string, value: number): Promise<HardwareState>;
  /**
   * Raw G-code lines (checked by the contract's GcodeParams), run in order; resolves when all are done and the
   * motion has completed. A line the controller refuses fails the operation, naming it; no line after it runs.
   */
  gcode(lines: readonly string[]): Promise<HardwareState>;
  /**
   * Probe toward a point (GRBL `G38.2`): move at `feed` until the probe touches. Resolves with the state, whose
   * `lastProbe` is where it touched; rejects with ProbeFailed when it touched nothing on the way (or touched
   * something before it moved). Moves before it finish first; operations after it wait for it.
   */
  probe(target: ProbeTarget): Promise<HardwareState>;
  /** Feed hold (`!`): decelerate to a stop without losing position; resolves once the machine is held (`Hold`). */
  hold(): Promise<HardwareState>;
  /** Cycle start (`~`): continue held motion. Ignored while the door is open or in an alarm. */
  release(): Promise<HardwareState>;
  /**
   * Abort all motion now and flush everything buffered, keeping the current position and raising no alarm
   * (on GRBL: feed hold, wait for the stop, then soft reset). Pending operations reject with MotionAborted.
   */
  stop(): Promise<HardwareState>;
  /** The state now, position included (GRBL senders poll it with `?`). */
  state(): HardwareState;
  /**
   * Called when the machine state, `homed`, the door or the alarm changes. Position changes continuously while
   * moving and is not announced: read it with `state()`.
   */
  on(event: 'state', listener: StateListener): void;
  off(event: 'state', listener: StateListener): void;
}

/** The rejection of an operation that `stop()` interrupted or flushed. */
export class MotionAborted extends Error {
  readonly code = 'aborted';
  constructor() {
    super('motion stopped');
    this.name = 'MotionAborted';
  }
}

/** The rejection of an operation that an alarm interrupted, or that was refused because the machine is in alarm. */
export class MachineAlarm extends Error {
  readonly code = 'alarm';
  constructor(
    readonly alarm: { code: number; message: string },
    message = `ALARM:${alarm.code} ${alarm.message}`,
  ) {
    super(message);
    this.name = 'MachineAlarm';
  }
}

/**
 * A probe that did not touch: `probe-no-contact`, it reached its target touching nothing (GRBL ALARM:5);
 * `probe-already-in-contact`, the probe was touching before it moved (ALARM:4). GRBL keeps its position but is in
 * alarm until unlocked.
 */
export class ProbeFailed extends Error {
  constructor(
    readonly code: 'probe-no-contact' | 'probe-already-in-contact',
    message: string,
    /** GRBL's alarm, when it raised one. */
    readonly alarm: { code: number; message: string } | null,
  ) {
    super(message);
    this.name = 'ProbeFailed';
  }
}

export const ORIGIN: Position = { x: 0, y: 0, z: 0 };
