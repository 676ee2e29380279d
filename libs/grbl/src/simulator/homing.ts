// The homing cycle (`$H`), as GRBL's limits_go_home() runs it: Z first, then X and Y together. For each group
// of axes: search for the switches at the seek rate ($25), pull off ($27), approach them again slowly at the
// locate rate ($24), pull off again, with the switch debounce delay ($26) after each of those four moves. Then
// GRBL sets the machine position as shipped (without HOMING_FORCE_SET_ORIGIN): machine zero is the + end of each
// axis, so an axis homed towards + stands at -$27, one homed towards - ($23 bit set) at -$13x + $27.
// Simplification: each axis moves at the homing rate without acceleration, and the switches are always found.
import type { Clock } from '@labrun/contracts';
import type { Settings } from './settings.js';
import type { Stepper } from './stepper.js';
import { Timer } from './timer.js';

/** GRBL's HOMING_CYCLE_0 and HOMING_CYCLE_1. */
const CYCLES: number[][] = [[2], [0, 1]];

export class HomingCycle {
  private readonly timer: Timer;
  private active = false;

  constructor(
    private readonly clock: Clock,
    private readonly settings: Settings,
    private readonly stepper: Stepper,
  ) {
    this.timer = new Timer(clock);
  }

  get running(): boolean {
    return this.active;
  }

  /** Run the whole cycle; `done` is called once every axis stands at its home position. */
  start(done: () => void): void {
    this.active = true;
    const s = this.settings;
    const moves: Array<{ axes: number[]; to: (axis: number) => number; rate: number }> = [];
    for (const axes of CYCLES) {
      // The switch, in the machine coordinates GRBL counts in now (they may be off until this cycle ends).
      const towardsSwitch = (axis: number) => this.stepper.counted(axis, s.homeSwitch(axis));
      const pulledOff = (axis: number) => this.stepper.counted(axis, s.homePosition(axis));
      moves.push({ axes, to: towardsSwitch, rate: s.get(25) }); // search
      moves.push({ axes, to: pulledOff, rate: s.get(25) }); // pull off
      moves.push({ axes, to: towardsSwitch, rate: s.get(24) }); // locate, slowly
      moves.push({ axes, to: pulledOff, rate: s.get(25) }); // pull off
    }
    const next = (index: number) => {
      if (!this.active) return;
      const move = moves[index];
      if (!move) {
        this.active = false;
        this.stepper.setPosition([s.homePosition(0), s.homePosition(1), s.homePosition(2)]);
        done();
        return;
      }
      const targets = new Map(move.axes.map((axis) => [axis, move.to(axis)] as [number, number]));
      this.stepper.moveAxes(targets, move.rate, () => {
        // Let the switch settle before reversing, as GRBL waits $26 ms.
        this.timer.at(this.clock.now() + s.get(26), () => next(index + 1));
      });
    };
    next(0);
  }

  /** Stop the cycle where it is (a reset or the door): the caller raises the alarm. */
  abort(): void {
    this.active = false;
    this.timer.cancel();
    this.stepper.kill();
  }

  stop(): void {
    this.abort();
    this.timer.stop();
  }
}
