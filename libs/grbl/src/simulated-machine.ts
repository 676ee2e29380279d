// The built-in GRBL simulator: a MotionController that moves in (simulated) real time, so labrun runs on a laptop
// with no controller attached. It follows GRBL 1.1's state machine, simplified where noted.
import { systemClock, type Clock, type HardwareState, type MachineState, type Position } from '@labrun/contracts';
import { ALARMS, MachineAlarm, MotionAborted, ORIGIN, type MotionController, type MoveTarget, type StateListener } from './motion-controller.js';

export interface SimulatedMachineOptions {
  clock?: Clock;
  /** Feed for a move that gives none, in mm/min. */
  defaultFeed?: number;
  /** Feed of the homing cycle, in mm/min (GRBL's $25 homing seek rate). */
  homingFeed?: number;
}

type Kind = 'move' | 'home' | 'dwell';

/** One buffered operation, like one line in GRBL's planner buffer. */
interface Job {
  kind: Kind;
  target?: MoveTarget;
  seconds?: number;
  resolve(state: HardwareState): void;
  reject(error: Error): void;
  /** Settles when the job has, however it ended. */
  ended: Promise<void>;
}

/** The job being executed: a straight segment (a dwell is one that goes nowhere) and how far along it is. */
interface Active {
  job: Job;
  from: Position;
  to: Position;
  durationMs: number;
  /** Time spent executing before the last resume. */
  doneMs: number;
  /** When it last started or resumed executing; null while held. */
  resumedAt: number | null;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000; // GRBL reports positions to 3 decimals
const distance = (a: Position, b: Position) => Math.hypot(b.x - a.x, b.y - a.y, b.z - a.z);

export class SimulatedMachine implements MotionController {
  private readonly clock: Clock;
  private readonly defaultFeed: number;
  private readonly homingFeed: number;
  private readonly listeners = new Set<StateListener>();

  private position: Position = { ...ORIGIN };
  private homed = false;
  private door: 'open' | 'closed' = 'closed';
  private alarm: { code: number; message: string } | null = null;
  /** Feed hold in effect: set by hold() or the door, cleared only by release() (cycle start) or stop(). */
  private held = false;
  private queue: Job[] = [];
  private active: Active | null = null;
  private timer: unknown = null;
  private announced = '';

  constructor(options: SimulatedMachineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultFeed = options.defaultFeed ?? 1000;
    this.homingFeed = options.homingFeed ?? 3000;
    this.announced = this.summary();
  }

  home(): Promise<HardwareState> {
    return this.enqueue({ kind: 'home' });
  }

  move(target: MoveTarget): Promise<HardwareState> {
    const values = [target.x, target.y, target.z, target.feed].filter((v) => v !== undefined);
    if (!values.every(Number.isFinite) || (target.feed !== undefined && target.feed <= 0)) {
      return Promise.reject(new RangeError('a move needs finite coordinates and a feed greater than 0'));
    }
    return this.enqueue({ kind: 'move', target });
  }

  dwell(seconds: number): Promise<HardwareState> {
    if (!Number.isFinite(seconds) || seconds < 0) return Promise.reject(new RangeError('a dwell needs a duration of 0 seconds or more'));
    return this.enqueue({ kind: 'dwell', seconds });
  }

  async hold(): Promise<HardwareState> {
    // GRBL ignores feed hold in an alarm, and the door already holds harder than `!` does.
    if (this.alarm || this.door === 'open') return this.state();
    this.held = true;
    if (this.active?.job.kind === 'home') {
      // GRBL's homing cycle does not honour feed hold; the hold takes effect once homing ends.
      await this.active.job.ended;
    } else {
      // GRBL decelerates along the path (Hold:1) before it is held (Hold:0); the simulator stops at once.
      this.pause();
    }
    this.announce();
    return this.state();
  }

  async release(): Promise<HardwareState> {
    // GRBL ignores cycle start while the door is open: closing the door is not enough, and opening it is always a hold.
    if (!this.held || this.alarm || this.door === 'open') return this.state();
    this.held = false;
    if (this.active && this.active.resumedAt === null) this.active.resumedAt = this.clock.now();
    this.run();
    return this.state();
  }

  async stop(): Promise<HardwareState> {
    // A bare GRBL soft reset (0x18) mid-motion loses position and raises ALARM:3; stopping from a feed hold
    // keeps it. The simulator stops dead and knows where it is, so it keeps position too.
    if (this.active) this.position = this.positionOf(this.active);
    this.flush(new MotionAborted());
    this.held = this.door === 'open' && !this.alarm; // an open door still holds whatever comes next
    this.announce();
    return this.state();
  }

  /**
   * The safety door input: opening it holds motion (`Door`); after closing, the machine stays held until release().
   * GRBL 1.1 reports that closed-but-not-resumed door as `Door:0`; labrun's machine states carry no sub-state,
   * so the simulator reports `Hold`, which is what it is: held, waiting for cycle start.
   */
  setDoor(open: boolean): void {
    const door = open ? 'open' : 'closed';
    if (door === this.door) return;
    this.door = door;
    if (open && this.active?.job.kind === 'home') {
      // The homing cycle cannot pause: GRBL aborts it and raises ALARM:6; position is no longer trusted.
      this.position = this.positionOf(this.active);
      this.raiseAlarm(ALARMS.homingDoor);
    } else if (open && !this.alarm) {
      this.held = true;
      this.pause();
    }
    this.announce();
  }

  state(): HardwareState {
    const p = this.active ? this.positionOf(this.active) : this.position;
    return {
      connected: true,
      machine: this.machineState(),
      position: { x: round3(p.x), y: round3(p.y), z: round3(p.z) },
      homed: this.homed,
      door: this.door,
      alarm: this.alarm,
      at: new Date(this.clock.now()).toISOString(),
    };
  }

  on(_event: 'state', listener: StateListener): void {
    this.listeners.add(listener);
  }

  off(_event: 'state', listener: StateListener): void {
    this.listeners.delete(listener);
  }

  /** GRBL's state as a status report (`<Idle|MPos:…>`) would name it. */
  private machineState(): MachineState {
    if (this.alarm) return 'Alarm';
    if (this.door === 'open') return 'Door';
    if (this.active?.job.kind === 'home') return 'Home';
    if (this.held) return 'Hold';
    // Buffered work starts at once when nothing holds it, so the next job already decides the state.
    // GRBL reports Idle during a dwell: the planner is empty while G4 waits.
    const kind = (this.active?.job ?? this.queue[0])?.kind;
    return kind === 'move' ? 'Run' : kind === 'home' ? 'Home' : 'Idle';
  }

  private enqueue(job: Pick<Job, 'kind' | 'target' | 'seconds'>): Promise<HardwareState> {
    // In an alarm GRBL refuses G-code (error:9) until `$H` (or `$X`) clears it.
    if (this.alarm && job.kind !== 'home') {
      return Promise.reject(new MachineAlarm(this.alarm, `machine is in alarm (ALARM:${this.alarm.code} ${this.alarm.message}): home it first`));
    }
    let resolve!: Job['resolve'];
    let reject!: Job['reject'];
    const result = new Promise<HardwareState>((res, rej) => ((resolve = res), (reject = rej)));
    this.queue.push({ ...job, resolve, reject, ended: result.then(() => undefined, () => undefined) });
    this.run();
    return result;
  }

  /**
   * Execute buffered jobs until one needs time to pass, then set a timer for when it ends. A job that follows
   * a finished one starts at the exact moment the first ended, so late timers never stretch a program.
   */
  private run(): void {
    this.cancelTimer();
    let startAt = this.clock.now();
    for (;;) {
      if (!this.active) {
        const next = this.queue[0];
        if (!next || this.held || this.door === 'open') break;
        this.queue.shift();
        this.active = this.begin(next, startAt);
      }
      const active = this.active;
      if (active.resumedAt === null) break; // held mid-job
      const remaining = active.durationMs - this.elapsed(active);
      if (remaining > 0) {
        this.timer = this.clock.setTimeout(() => this.run(), Math.ceil(remaining));
        break;
      }
      startAt = active.resumedAt + active.durationMs - active.doneMs;
      this.finish(active);
    }
    this.announce();
  }

  private begin(job: Job, startAt: number): Active {
    const from = this.position;
    if (job.kind === 'dwell') return { job, from, to: from, durationMs: (job.seconds ?? 0) * 1000, doneMs: 0, resumedAt: startAt };
    if (job.kind === 'home') {
      // Real homing seeks the limit switches and pulls off; the simulator travels straight back to the origin.
      this.alarm = null;
      return { job, from, to: { ...ORIGIN }, durationMs: (distance(from, ORIGIN) / this.homingFeed) * 60_000, doneMs: 0, resumedAt: startAt };
    }
    const { x = from.x, y = from.y, z = from.z, feed = this.defaultFeed } = job.target ?? {};
    const to = { x, y, z };
    // Constant speed along a straight line: GRBL's acceleration ramps are left out.
    return { job, from, to, durationMs: (distance(from, to) / feed) * 60_000, doneMs: 0, resumedAt: startAt };
  }

  private finish(active: Active): void {
    this.position = active.to;
    this.active = null;
    if (active.job.kind === 'home') this.homed = true;
    active.job.resolve(this.state());
  }

  /** Hold the job in progress where it is. */
  private pause(): void {
    const active = this.active;
    if (!active || active.resumedAt === null) return;
    active.doneMs = this.elapsed(active);
    active.resumedAt = null;
    this.cancelTimer();
  }

  private raiseAlarm(alarm: { code: number; message: string }): void {
    this.alarm = alarm;
    this.homed = false;
    this.held = false;
    this.flush(new MachineAlarm(alarm)); // an alarm empties GRBL's buffer
  }

  /** Drop the job in progress and everything buffered, rejecting each with `error`. */
  private flush(error: Error): void {
    this.cancelTimer();
    const jobs = [...(this.active ? [this.active.job] : []), ...this.queue];
    this.active = null;
    this.queue = [];
    for (const job of jobs) job.reject(error);
  }

  private elapsed(active: Active): number {
    const running = active.resumedAt === null ? 0 : this.clock.now() - active.resumedAt;
    return Math.min(active.durationMs, active.doneMs + running);
  }

  private positionOf(active: Active): Position {
    const f = active.durationMs === 0 ? 1 : this.elapsed(active) / active.durationMs;
    const { from, to } = active;
    return { x: from.x + (to.x - from.x) * f, y: from.y + (to.y - from.y) * f, z: from.z + (to.z - from.z) * f };
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private summary(): string {
    return JSON.stringify([this.machineState(), this.homed, this.door, this.alarm?.code ?? null]);
  }

  /** Tell listeners when machine state, homed, door or alarm changed since they last heard. */
  private announce(): void {
    const summary = this.summary();
    if (summary === this.announced) return;
    this.announced = summary;
    const state = this.state();
    for (const listener of this.listeners) listener(state);
  }
}
