// GRBL's look-ahead planner buffer: the straight moves parsed but not yet finished, 15 of them at most
// (BLOCK_BUFFER_SIZE 16, one slot always free). The block being executed stays in the buffer until it is done,
// so `Bf:15,…` in a status report means "nothing buffered". Each block knows its cruise speed and acceleration,
// limited per axis by $110-$112 (max rate) and $120-$122 (acceleration) as GRBL's plan_buffer_line() does.
import type { Settings } from './settings.js';
import { AXES, distance, toSteps, type Vec3 } from './vector.js';

export const PLANNER_BLOCKS = 15;
/** GRBL's MINIMUM_FEED_RATE, mm/min. */
const MINIMUM_FEED_RATE = 1;

export interface PlannerBlock {
  /** Where the move ends, machine coordinates, on whole steps. */
  readonly target: Vec3;
  /** Direction of travel (unit vector). */
  readonly unit: Vec3;
  /** Cruise speed, mm/s. */
  readonly speed: number;
  /** Acceleration along the path, mm/s². */
  readonly accel: number;
  /** A `$J=` jog rather than a G-code move. */
  readonly jog: boolean;
}

export class Planner {
  private blocks: PlannerBlock[] = [];
  /** Where the last buffered block ends (GRBL's pl.position): the next block starts here. */
  private position: Vec3 = [0, 0, 0];

  constructor(private readonly settings: Settings) {}

  get count(): number {
    return this.blocks.length;
  }

  /** Free blocks, the first number of `Bf:`. */
  get available(): number {
    return PLANNER_BLOCKS - this.blocks.length;
  }

  get full(): boolean {
    return this.blocks.length >= PLANNER_BLOCKS;
  }

  /** The block the machine is executing, or will execute next. */
  current(): PlannerBlock | undefined {
    return this.blocks[0];
  }

  /**
   * Buffer a straight move to `target`. `feed` is mm/min; a rapid (G0) goes as fast as the axes allow.
   * A move of no length (on whole steps) is dropped, as GRBL drops it: returns false.
   */
  add(target: Vec3, options: { feed: number; rapid: boolean; jog: boolean }): boolean {
    const to = toSteps(target, (axis) => this.settings.stepsPerMm(axis));
    const length = distance(this.position, to);
    if (length === 0) return false;
    const unit = to.map((v, axis) => (v - this.position[axis]!) / length) as Vec3;
    // The path is limited by whichever axis reaches its own maximum first.
    let maxRate = Infinity;
    let accel = Infinity;
    for (const axis of AXES) {
      const share = Math.abs(unit[axis]);
      if (share === 0) continue;
      maxRate = Math.min(maxRate, this.settings.maxRate(axis) / share);
      accel = Math.min(accel, this.settings.acceleration(axis) / share);
    }
    const rate = options.rapid ? maxRate : Math.min(Math.max(options.feed, MINIMUM_FEED_RATE), maxRate);
    this.blocks.push({ target: to, unit, speed: rate / 60, accel, jog: options.jog });
    this.position = to;
    return true;
  }

  /** The executing block is finished: free its slot. */
  discardCurrent(): void {
    this.blocks.shift();
  }

  /** Empty the buffer and start planning again from `position` (plan_reset + plan_sync_position). */
  reset(position: Vec3): void {
    this.blocks = [];
    this.position = [...position];
  }
}
