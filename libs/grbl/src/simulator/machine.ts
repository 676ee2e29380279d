// What every part of the simulated firmware shares: GRBL's `sys` struct (machine state, real-time flags,
// suspend flags, pending alarm) and the parts they drive — parser, planner, stepper, homing cycle, serial receive
// buffer, spindle and coolant outputs, limit and door inputs. Also mc_reset(), which any of them may call.
import type { Clock } from '@labrun/contracts';
import { ALARM } from './codes.js';
import { COOLANT, ParserState } from './gcode.js';
import { HomingCycle } from './homing.js';
import { Planner } from './planner.js';
import { ReportCounters } from './report.js';
import { RxBuffer } from './serial-rx.js';
import type { Settings } from './settings.js';
import { Stepper } from './stepper.js';
import type { SystemContext } from './system-commands.js';
import { Timer } from './timer.js';
import { toSteps, type Vec3 } from './vector.js';

/** GRBL's machine states (sys.state); the status report adds sub-states (Hold:0, Door:1…). */
export type MachineState = 'Idle' | 'Alarm' | 'Check' | 'Homing' | 'Cycle' | 'Hold' | 'Jog' | 'Door' | 'Sleep';

/** GRBL's real-time execution flags (sys_rt_exec_state): raised by interrupts, acted on by the main loop. */
export interface ExecFlags {
  statusReport: boolean;
  cycleStart: boolean;
  cycleStop: boolean;
  feedHold: boolean;
  reset: boolean;
  safetyDoor: boolean;
  motionCancel: boolean;
  sleep: boolean;
}

/** Why and how far the machine is suspended (sys.suspend). Any flag set blocks the main loop. */
export interface SuspendFlags {
  holdComplete: boolean;
  restartRetract: boolean;
  retractComplete: boolean;
  initiateRestore: boolean;
  restoreComplete: boolean;
  doorAjar: boolean;
  motionCancel: boolean;
  jogCancel: boolean;
}

export const noFlags = (): ExecFlags => ({ statusReport: false, cycleStart: false, cycleStop: false, feedHold: false, reset: false, safetyDoor: false, motionCancel: false, sleep: false });
export const noSuspend = (): SuspendFlags => ({
  holdComplete: false,
  restartRetract: false,
  retractComplete: false,
  initiateRestore: false,
  restoreComplete: false,
  doorAjar: false,
  motionCancel: false,
  jogCancel: false,
});

export class Machine implements SystemContext {
  state: MachineState = 'Idle';
  exec = noFlags();
  /** A pending alarm code (sys_rt_exec_alarm), 0 for none. */
  execAlarm = 0;
  suspend = noSuspend();
  /** A feed hold is decelerating the machine (STEP_CONTROL_EXECUTE_HOLD). */
  holdInProgress = false;
  /** A soft limit is being handled: the hold it started ends in Idle, not Hold (sys.soft_limit). */
  softLimit = false;
  /** A reset has come into effect: re-initialise (sys.abort). */
  abort = false;
  /** After ALARM:1 or ALARM:2: nothing but a reset is acted on. */
  criticalLock = false;
  /** `[MSG:Sleeping]` has been sent; only a reset wakes the controller. */
  sleeping = false;
  /** Door:3: spindle and coolant are starting again until this time. */
  restoring: { until: number } | null = null;
  /** GRBL is inside a delay (after printing an alarm) until this time, then runs `afterBusy`. */
  busyUntil = 0;
  afterBusy: (() => void) | null = null;

  readonly parser: ParserState;
  readonly planner: Planner;
  readonly stepper: Stepper;
  readonly homing: HomingCycle;
  readonly rx = new RxBuffer();
  readonly counters = new ReportCounters();
  readonly dwellTimer: Timer;
  readonly restoreTimer: Timer;
  buildInfo = '';
  readonly startupLines = ['', ''];

  /** The safety door switch: true while open. */
  doorPin = false;
  /** Limit switches the last hard limit tripped, with where: still pressed while the axis stays on that boundary. */
  readonly limitPins = new Map<number, number>();
  spindle: { direction: 3 | 4 | 5; rpm: number } = { direction: 5, rpm: 0 };
  /** The work coordinate offset in effect (G5x + G92), as status reports show it: WPos = MPos − WCO. */
  wco: Vec3 = [0, 0, 0];
  /** The coolant outputs that are on: COOLANT bits (flood, mist). */
  coolant = 0;
  /**
   * What the probe touches: a surface at this machine Z (physical, where homing counts it), touched from above; the
   * probe pin reads triggered at or below it. Null: nothing to touch, the pin never triggers.
   */
  probeSurfaceZ: number | null = null;
  /** A probe cycle is watching the pin and it has not touched yet (sys_probe_state == PROBE_ACTIVE). */
  probing = false;
  /** Where the last probe cycle touched, on whole steps, and whether it did (sys_probe_position, sys.probe_succeeded). */
  lastProbe: { position: Vec3; succeeded: boolean } = { position: [0, 0, 0], succeeded: false };

  constructor(
    readonly clock: Clock,
    readonly settings: Settings,
    /** Sends text to the host, as is. */
    readonly transmit: (text: string) => void,
    /** Run the main loop: something happened. */
    readonly wake: () => void,
    /** Compile-time options: ENABLE_M7 (mist coolant). */
    build: { enableM7?: boolean } = {},
  ) {
    this.parser = new ParserState(build);
    this.planner = new Planner(settings);
    this.stepper = new Stepper(clock, this.planner, settings, {
      blockDone: () => this.wake(),
      cycleStop: () => {
        this.exec.cycleStop = true;
        this.wake();
      },
      limitHit: (axes) => this.hardLimit(axes),
      probeTouched: (position) => this.probeTouched(position),
    });
    this.homing = new HomingCycle(clock, settings, this.stepper);
    // Power-up: GRBL counts from 0,0,0 wherever the machine stands; the simulated one was left at its home
    // position, so homing takes about a second as on a machine parked after its last run.
    this.stepper.setPosition([0, 0, 0], [settings.homePosition(0), settings.homePosition(1), settings.homePosition(2)]);
    this.dwellTimer = new Timer(clock);
    this.restoreTimer = new Timer(clock);
  }

  sendLine(line: string): void {
    this.transmit(`${line}\r\n`);
  }

  get doorAjar(): boolean {
    return this.doorPin;
  }

  get suspended(): boolean {
    return Object.values(this.suspend).some(Boolean);
  }

  /** Machine position on whole steps, mm. */
  position(): Vec3 {
    return toSteps(this.stepper.position(), (axis) => this.settings.stepsPerMm(axis));
  }

  /** The state as the status report names it: `Idle`, `Run`, `Hold:0`, `Door:1`… */
  reportedState(): string {
    const s = this.suspend;
    switch (this.state) {
      case 'Cycle':
        return 'Run';
      case 'Hold':
        return s.jogCancel ? 'Jog' : `Hold:${s.holdComplete ? 0 : 1}`;
      case 'Homing':
        return 'Home';
      case 'Door':
        if (s.initiateRestore) return 'Door:3';
        if (s.retractComplete) return s.doorAjar ? 'Door:1' : 'Door:0';
        return 'Door:2';
      default:
        return this.state;
    }
  }

  /** mc_reset(): stop at once; moving (or still slowing down) means the position can't be trusted: ALARM:3. */
  reset(): void {
    if (this.exec.reset) return;
    this.exec.reset = true;
    this.setSpindle(5, 0);
    this.setCoolant(0);
    const moving = this.state === 'Cycle' || this.state === 'Homing' || this.state === 'Jog' || this.holdInProgress;
    if (moving) {
      if (this.state === 'Homing') {
        if (!this.execAlarm) this.execAlarm = ALARM.homingFailReset;
      } else {
        this.execAlarm = ALARM.abortCycle;
      }
      if (this.homing.running) this.homing.abort();
      else this.stepper.kill();
    }
  }

  /** `$SLP`: a real-time flag, acted on after the line's `ok`. */
  sleep(): void {
    this.exec.sleep = true;
  }

  /** The spindle output: the speed it really turns at is limited to $31…$30 rpm, and 0 when off or at S0. */
  setSpindle(direction: 3 | 4 | 5, speed: number): void {
    const rpm = direction === 5 || speed <= 0 ? 0 : Math.min(Math.max(speed, this.settings.get(31)), this.settings.get(30));
    const before = this.accessories();
    this.spindle = { direction, rpm };
    if (this.accessories() !== before) this.counters.refreshOverrides(); // show the new `A:` in the next report
  }

  /** The coolant outputs: COOLANT bits, 0 for off. */
  setCoolant(bits: number): void {
    const before = this.accessories();
    this.coolant = bits;
    if (this.accessories() !== before) this.counters.refreshOverrides();
  }

  /**
   * The status report's `A:` letters: S (clockwise) or C (counter-clockwise) while the spindle's PWM is on — at S0
   * GRBL 1.1 switches the PWM off and reports no spindle —, F flood, M mist.
   */
  accessories(): string {
    const spindle = this.spindle.rpm <= 0 ? '' : this.spindle.direction === 3 ? 'S' : this.spindle.direction === 4 ? 'C' : '';
    return spindle + (this.coolant & COOLANT.flood ? 'F' : '') + (this.coolant & COOLANT.mist ? 'M' : '');
  }

  /** The probe pin: the probe is at or below its surface. */
  probeTouching(): boolean {
    return this.probeSurfaceZ !== null && this.stepper.physicalPosition()[2] <= this.probeSurfaceZ + 1e-9;
  }

  /** Start or stop watching the probe pin during the probe cycle's motion. */
  watchProbe(on: boolean): void {
    this.probing = on;
    this.stepper.probeSurface = on ? this.probeSurfaceZ : null;
  }

  /** probe_state_monitor(): the probe touched; keep where (on whole steps) and cancel the motion, which decelerates. */
  private probeTouched(position: Vec3): void {
    if (!this.probing) return;
    this.probing = false;
    this.lastProbe.position = toSteps(position, (axis) => this.settings.stepsPerMm(axis));
    this.exec.motionCancel = true;
    this.wake();
  }

  /** Axes whose limit switch is pressed now: the machine still stands where a hard limit stopped it. */
  limitSwitchesPressed(): number[] {
    const position = this.stepper.position();
    return [...this.limitPins].filter(([axis, at]) => Math.abs(position[axis]! - at) < 1e-9).map(([axis]) => axis);
  }

  /** A limit switch tripped (the limit pin interrupt): the motion is dead, the critical ALARM:1 follows. */
  hardLimit(axes: number[]): void {
    if (this.state !== 'Alarm' && !this.execAlarm) {
      this.reset();
      this.execAlarm = ALARM.hardLimit;
      const position = this.stepper.position();
      for (const axis of axes) this.limitPins.set(axis, position[axis]!);
    }
    this.wake();
  }
}
