// The motors: executes planner blocks one after another in simulated real time on the injectable clock, the way
// GRBL's stepper interrupt does, and knows where the machine is at every instant. It also runs the homing cycle's
// moves and plays the machine's limit switches: with hard limits on ($21=1) a move that would leave the travel
// stops dead on the boundary and reports which axes hit it. The switches are where the machine physically ends,
// which is where GRBL's machine coordinates say only once the machine has been homed: until then MPos is wherever
// GRBL started counting (0,0,0 at power-up).
import type { Clock } from '@labrun/contracts';
import { stopping, trapezoid, type Profile } from './motion-profile.js';
import type { Planner, PlannerBlock } from './planner.js';
import type { Settings } from './settings.js';
import { Timer } from './timer.js';
import { AXES, along, distance, type Vec3 } from './vector.js';

export interface StepperEvents {
  /** A block is finished and its planner slot is free. */
  blockDone(): void;
  /** The machine has come to rest: the planner ran dry, or a hold finished decelerating. */
  cycleStop(): void;
  /** A hard limit switch tripped: the machine stopped dead on the boundary of these axes. */
  limitHit(axes: number[]): void;
  /** The probe touched its surface here (GRBL's probe_state_monitor() in the step interrupt); the motion goes on until stopped. */
  probeTouched(position: Vec3): void;
}

/** A move in progress: where it started, and how far along it is at time t. */
interface Motion {
  startedAt: number;
  endsAt: number;
  positionAt(now: number): Vec3;
  speedAt(now: number): number;
  /** When a hard limit trips during this motion, and where. */
  limit: { at: number; position: Vec3; axes: number[] } | null;
  /** When the watched probe touches its surface during this motion, and where. */
  probe: { at: number; position: Vec3 } | null;
  /** The planner block this motion executes, if it does. */
  block: PlannerBlock | null;
  /** A feed hold deceleration. */
  hold: boolean;
  /** For homing moves: called when the move ends. */
  done?: () => void;
}

const EPSILON = 1e-9;

export class Stepper {
  private restPosition: Vec3 = [0, 0, 0];
  /** Physical position − machine position: how far GRBL's count is off until homing sets it right. */
  private unhomedShift: Vec3 = [0, 0, 0];
  private motion: Motion | null = null;
  private readonly timer: Timer;
  /**
   * While a probe cycle watches the probe pin (sys_probe_state): the physical machine Z of the surface it touches
   * (a plane; the probe touches it moving down onto it). Null otherwise, and once it has touched.
   */
  probeSurface: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly planner: Planner,
    private readonly settings: Settings,
    private readonly events: StepperEvents,
  ) {
    this.timer = new Timer(clock);
  }

  /** Machine position now, mm. */
  position(): Vec3 {
    return this.motion ? this.motion.positionAt(this.clock.now()) : [...this.restPosition];
  }

  /** Speed now along the path, mm/min (the `FS:` feed). */
  speed(): number {
    return this.motion ? this.motion.speedAt(this.clock.now()) * 60 : 0;
  }

  get moving(): boolean {
    return this.motion !== null;
  }

  /** A feed hold is decelerating (GRBL's STEP_CONTROL_EXECUTE_HOLD while not yet at rest). */
  get holding(): boolean {
    return this.motion?.hold === true;
  }

  /** Start executing buffered blocks, if not already (st_wake_up). */
  wake(): void {
    if (!this.motion) this.startBlock(this.clock.now());
  }

  /** Feed hold: slow down along the path at the block's acceleration and stop; the block stays buffered. */
  hold(): void {
    const motion = this.motion;
    if (!motion || motion.hold || !motion.block) return;
    const now = this.clock.now();
    const block = motion.block;
    const from = motion.positionAt(now);
    const v = motion.speedAt(now);
    const profile = stopping(v, block.accel, distance(from, block.target));
    this.begin({ ...this.blockMotion(now, from, block, profile), hold: true });
  }

  /** Stop dead where the machine is (a reset or an alarm): no deceleration, the buffer is left to the caller. */
  kill(): void {
    if (this.motion) this.restPosition = this.motion.positionAt(this.clock.now());
    this.motion = null;
    this.timer.cancel();
  }

  /**
   * GRBL's count of where the machine is: the homing cycle sets it once it has found the switches (then it is the
   * physical position); at power-up it is 0,0,0 wherever the machine physically stands (`physical`).
   */
  setPosition(position: Vec3, physical: Vec3 = position): void {
    this.kill();
    this.restPosition = [...position];
    this.unhomedShift = [physical[0] - position[0], physical[1] - position[1], physical[2] - position[2]];
  }

  /** Where the machine physically stands: its position as GRBL counts it, plus how far that count is off until homed. */
  physicalPosition(): Vec3 {
    const p = this.position();
    return [p[0] + this.unhomedShift[0], p[1] + this.unhomedShift[1], p[2] + this.unhomedShift[2]];
  }

  /** The machine coordinate GRBL counts now for a physical position of an axis (they differ until homed). */
  counted(axis: number, physical: number): number {
    return physical - this.unhomedShift[axis]!;
  }

  /** The machine coordinates (as GRBL counts them now) at which an axis reaches its physical ends. */
  private reach(axis: number): { min: number; max: number } {
    const { min, max } = this.settings.travel(axis);
    return { min: this.counted(axis, min), max: this.counted(axis, max) };
  }

  /**
   * A homing move: each axis in `targets` runs at `rate` mm/min straight to its target, independently, and
   * `done` is called when the last one arrives. Limit switches are not checked: GRBL disables hard limits
   * while homing.
   */
  moveAxes(targets: Map<number, number>, rate: number, done: () => void): void {
    this.kill();
    const from = [...this.restPosition] as Vec3;
    const perMs = rate / 60_000;
    const startedAt = this.clock.now();
    let longest = 0;
    for (const [axis, to] of targets) longest = Math.max(longest, Math.abs(to - from[axis]!));
    const positionAt = (now: number): Vec3 => {
      const travelled = Math.max(0, now - startedAt) * perMs;
      const p = [...from] as Vec3;
      for (const [axis, to] of targets) {
        const d = to - from[axis]!;
        p[axis] = from[axis]! + Math.sign(d) * Math.min(Math.abs(d), travelled);
      }
      return p;
    };
    const endsAt = startedAt + longest / perMs;
    this.begin({ startedAt, endsAt, positionAt, speedAt: (now) => (now < endsAt ? rate / 60 : 0), limit: null, probe: null, block: null, hold: false, done });
  }

  stop(): void {
    this.kill();
    this.timer.stop();
  }

  private blockMotion(startedAt: number, from: Vec3, block: PlannerBlock, profile: Profile): Motion {
    const unit = block.unit;
    const positionAt = (now: number): Vec3 => along(from, unit, profile.at((now - startedAt) / 1000).s);
    const limit = this.settings.hardLimits ? this.limitCrossing(from, unit, profile, startedAt) : null;
    return {
      startedAt,
      endsAt: startedAt + profile.duration * 1000,
      positionAt,
      speedAt: (now) => profile.at((now - startedAt) / 1000).v,
      limit,
      probe: this.probeCrossing(from, unit, profile, startedAt),
      block,
      hold: false,
    };
  }

  /** Where a straight move brings the watched probe down onto its surface, if it does. */
  private probeCrossing(from: Vec3, unit: Vec3, profile: Profile, startedAt: number): Motion['probe'] {
    if (this.probeSurface === null) return null;
    const surface = this.counted(2, this.probeSurface);
    if (from[2] <= surface + EPSILON) return { at: startedAt, position: [...from] }; // touching already
    if (unit[2] >= 0) return null;
    const s = (surface - from[2]) / unit[2];
    if (s > profile.distance + EPSILON) return null;
    const position = along(from, unit, s);
    position[2] = surface; // exactly on the surface, not a rounding error above it
    return { at: startedAt + profile.timeAt(Math.min(s, profile.distance)) * 1000, position };
  }

  /** Where a straight move leaves the machine's travel, if it does: that is where a limit switch trips. */
  private limitCrossing(from: Vec3, unit: Vec3, profile: Profile, startedAt: number): Motion['limit'] {
    let s = Infinity;
    let axes: number[] = [];
    for (const axis of AXES) {
      const u = unit[axis];
      const { min, max } = this.reach(axis);
      const end = from[axis] + u * profile.distance;
      let crossing = Infinity;
      if (u > 0 && end > max + EPSILON) crossing = Math.max(0, (max - from[axis]) / u);
      if (u < 0 && end < min - EPSILON) crossing = Math.max(0, (min - from[axis]) / u);
      if (crossing < s - EPSILON) {
        s = crossing;
        axes = [axis];
      } else if (Math.abs(crossing - s) <= EPSILON) {
        axes.push(axis);
      }
    }
    if (s === Infinity) return null;
    const position = along(from, unit, s);
    // Land exactly on the boundary, not a rounding error beyond it.
    for (const axis of axes) {
      const { min, max } = this.reach(axis);
      position[axis] = unit[axis]! > 0 ? max : min;
    }
    return { at: startedAt + profile.timeAt(s) * 1000, position, axes };
  }

  /** Start the next buffered block at time `at` (when the last one ended, so no time is lost between blocks). */
  private startBlock(at: number): void {
    for (;;) {
      const block = this.planner.current();
      if (!block) return;
      const from = this.restPosition;
      const length = distance(from, block.target);
      if (length < EPSILON) {
        // Already there (a hold that stopped right at the end of its block).
        this.restPosition = [...block.target];
        this.planner.discardCurrent();
        this.events.blockDone();
        continue;
      }
      this.begin(this.blockMotion(at, from, block, trapezoid(length, block.speed, block.accel)));
      return;
    }
  }

  private begin(motion: Motion): void {
    this.motion = motion;
    this.schedule();
  }

  private schedule(): void {
    const motion = this.motion;
    if (!motion) return;
    this.timer.at(Math.min(motion.endsAt, motion.limit?.at ?? Infinity, motion.probe?.at ?? Infinity), () => this.onTime());
  }

  private onTime(): void {
    const motion = this.motion;
    if (!motion) return;
    const now = this.clock.now();
    if (motion.probe && now >= motion.probe.at - 1e-6 && motion.probe.at <= (motion.limit?.at ?? Infinity)) {
      // The machine keeps moving until the firmware, told of the contact, decelerates it (a motion cancel).
      const { position } = motion.probe;
      motion.probe = null;
      this.probeSurface = null;
      this.schedule();
      this.events.probeTouched(position);
      return;
    }
    if (motion.limit && motion.limit.at <= motion.endsAt && now >= motion.limit.at - 1e-6) {
      this.restPosition = motion.limit.position;
      this.motion = null;
      this.events.limitHit(motion.limit.axes);
      return;
    }
    if (now < motion.endsAt - 1e-6) {
      this.schedule();
      return;
    }
    this.restPosition = motion.positionAt(motion.endsAt);
    this.motion = null;
    if (motion.done) {
      motion.done();
      return;
    }
    const block = motion.block!;
    const finished = distance(this.restPosition, block.target) < EPSILON;
    if (finished) {
      this.restPosition = [...block.target];
      this.planner.discardCurrent();
      this.events.blockDone();
    }
    if (!motion.hold && this.planner.current()) {
      this.startBlock(motion.endsAt);
      if (this.motion) return;
    }
    this.events.cycleStop();
  }
}
