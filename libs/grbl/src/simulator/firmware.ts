// The simulated GRBL 1.1h firmware: its inputs (the serial receive interrupt, the door switch), its main loop
// (protocol.c, protocol_main_loop) and its re-initialisation after a soft reset (main.c).
//
// GRBL is organised around flags. Interrupts — a real-time byte on the serial line, a limit switch, the door,
// the stepper finishing its work — only raise flags; the main loop acts on them between everything else it does.
// The simulator keeps that shape: `receiveByte` is the serial interrupt, realtime.ts acts on the flags, and
// `mainLoop` reads characters into lines and carries them out (line-executor.ts), until it must wait.
import type { Clock } from '@labrun/contracts';
import { ALARM, ERROR, STATUS_OK, type Status } from './codes.js';
import { parseBlock } from './gcode.js';
import { autoCycleStart, freezeDwell, runStep } from './line-executor.js';
import { LineReader, type ReadLine } from './line-reader.js';
import { Machine, noFlags, noSuspend } from './machine.js';
import { executeRealtime, suspendStep } from './realtime.js';
import { BANNER, MESSAGE } from './report.js';
import { realtimeCommand } from './serial-rx.js';
import type { Settings } from './settings.js';
import { newJob, type Job, type Step } from './steps.js';
import { executeSystemCommand } from './system-commands.js';
import { Timer } from './timer.js';
import type { Vec3 } from './vector.js';

export class GrblFirmware {
  private readonly m: Machine;
  private readonly reader = new LineReader();
  /** A complete line, read and waiting to be executed. */
  private readyLine: ReadLine | null = null;
  /** The line being executed. */
  private job: Job | null = null;
  private readonly busyTimer: Timer;
  private inService = false;
  private serviceAgain = false;
  private closed = false;
  /** Fault injection: the firmware has crashed (hang()) and does nothing until its power is cycled. */
  private hung = false;
  /** Fault injection: the next line read is answered `error:N` and not executed (failNextLine()). */
  private refuseNext: number | null = null;

  constructor(
    clock: Clock,
    settings: Settings,
    transmit: (text: string) => void,
    /** Fault injection: the answer to a line this returns true for is not sent. */
    private readonly loseAnswer: (line: string) => boolean = () => false,
    /** Compile-time options: ENABLE_M7. */
    build: { enableM7?: boolean } = {},
  ) {
    this.m = new Machine(clock, settings, transmit, () => this.service(), build);
    this.busyTimer = new Timer(clock);
    // Power-up: with homing enabled GRBL starts locked in Alarm until `$H` or `$X` (HOMING_INIT_LOCK).
    this.m.state = settings.homingEnabled ? 'Alarm' : 'Idle';
    this.reinitialize();
    this.service();
  }

  /** A byte arrives on the serial line (GRBL's serial receive interrupt). */
  receiveByte(byte: number): void {
    if (this.hung) return;
    const m = this.m;
    switch (realtimeCommand(byte)) {
      case null:
        m.rx.put(byte); // dropped when the 128-byte buffer is full
        break;
      case 'reset':
        m.reset();
        break;
      case 'statusReport':
        m.exec.statusReport = true;
        break;
      case 'cycleStart':
        m.exec.cycleStart = true;
        break;
      case 'feedHold':
        m.exec.feedHold = true;
        break;
      case 'safetyDoor':
        m.exec.safetyDoor = true;
        break;
      case 'jogCancel':
        if (m.state === 'Jog') m.exec.motionCancel = true;
        break;
      default:
        break; // overrides and unknown extended codes: accepted, no effect
    }
    this.service();
  }

  /** The safety door switch. Opening it acts like the 0x84 command; closing it only lets a resume happen. */
  setDoor(open: boolean): void {
    if (open === this.m.doorPin) return;
    this.m.doorPin = open;
    if (open) this.m.exec.safetyDoor = true;
    this.service();
  }

  /**
   * Fault injection: a limit switch trips where the machine stands now (an obstacle, a loose wire), as GRBL's limit
   * pin interrupt sees it: with hard limits on the motion stops dead, ALARM:1 and `[MSG:Reset to continue]` follow,
   * and the switch stays pressed while the axis stays there. GRBL ignores the pins with hard limits off ($21=0),
   * while homing (mc_homing_cycle disables them) and in Alarm. Returns whether GRBL acted on it.
   */
  tripLimit(axis: number): boolean {
    const m = this.m;
    if (this.hung || this.closed || !m.settings.hardLimits || m.homing.running || m.state === 'Alarm') return false;
    m.hardLimit([axis]);
    return true;
  }

  /**
   * Fault injection: GRBL's reset input (the reset button on the `Pn:R` pin), which does what Ctrl-X does: a
   * reset while moving stops dead and raises ALARM:3.
   */
  pressReset(): void {
    if (this.hung || this.closed) return;
    this.m.reset();
    this.service();
  }

  /**
   * Fault injection: the power is cut and comes back (a brown-out, a USB hub resetting the board, DTR). GRBL keeps
   * only its EEPROM (settings, G54…G59, startup lines, build info): the line it was working on is never answered,
   * motion stops dead, it counts from 0,0,0 wherever the machine stands, prints its banner and, with homing
   * enabled, starts locked in Alarm. Also the way out of hang().
   */
  powerCycle(): void {
    if (this.closed) return;
    const m = this.m;
    this.hung = false;
    this.refuseNext = null;
    this.job = null; // a power cut answers nothing: no `ok` for the interrupted line
    this.busyTimer.cancel();
    m.busyUntil = 0;
    m.afterBusy = null;
    if (m.homing.running) m.homing.abort();
    m.stepper.kill();
    const counted = m.stepper.position();
    // The limit switches stay where they physically are: pressed still if the machine stands on one.
    for (const [axis, at] of m.limitPins) m.limitPins.set(axis, at - counted[axis]!);
    m.stepper.setPosition([0, 0, 0], m.stepper.physicalPosition());
    m.state = m.settings.homingEnabled ? 'Alarm' : 'Idle'; // HOMING_INIT_LOCK, as at power-up
    this.reinitialize();
    this.service();
  }

  /**
   * Fault injection: the firmware crashes (a stack overflow, electrical noise): the motors stop dead, and nothing
   * is read, answered or reported — not even `?` — until powerCycle().
   */
  hang(): void {
    if (this.closed) return;
    const m = this.m;
    this.hung = true;
    for (const timer of [this.busyTimer, m.dwellTimer, m.restoreTimer]) timer.cancel();
    if (m.homing.running) m.homing.abort();
    m.stepper.kill();
  }

  /**
   * Fault injection: the next line GRBL reads (not an empty one) is answered `error:<code>` and not executed, as
   * GRBL answers a line that noise on the cable garbled.
   */
  failNextLine(code: number): void {
    this.refuseNext = code;
  }

  /** The probe's contact surface: a plane at this machine Z (as the homed machine counts it), or null for none. */
  setProbeSurface(z: number | null): void {
    this.m.probeSurfaceZ = z;
  }

  /** Machine position on whole steps, mm. */
  position(): Vec3 {
    return this.m.position();
  }

  /** The state as the status report names it: `Idle`, `Run`, `Hold:0`, `Door:1`… */
  reportedState(): string {
    return this.m.reportedState();
  }

  close(): void {
    this.closed = true;
    for (const timer of [this.busyTimer, this.m.dwellTimer, this.m.restoreTimer]) timer.stop();
    this.m.homing.stop();
    this.m.stepper.stop();
  }

  /** Run the main loop until it has to wait for something. Called on every input and timer. */
  private service(): void {
    if (this.closed || this.hung) return;
    if (this.inService) {
      this.serviceAgain = true; // called from inside the loop: go round once more when done
      return;
    }
    this.inService = true;
    try {
      do {
        this.serviceAgain = false;
        this.mainLoop();
      } while (this.serviceAgain && !this.closed);
    } finally {
      this.inService = false;
    }
  }

  private mainLoop(): void {
    const m = this.m;
    for (;;) {
      if (this.closed || this.hung) return;
      if (m.clock.now() < m.busyUntil) {
        this.busyTimer.at(m.busyUntil, () => this.service());
        return;
      }
      if (m.afterBusy) {
        const then = m.afterBusy;
        m.afterBusy = null;
        then();
        continue;
      }
      if (m.homing.running) {
        // The homing loop looks only for a reset or the door; everything else waits until it ends.
        if (m.exec.safetyDoor) {
          m.execAlarm = ALARM.homingFailDoor;
          m.reset();
        }
        if (m.homing.running) return;
      }
      if (m.criticalLock) {
        if (!m.exec.reset) return; // after ALARM:1/2 only a reset gets out
        m.criticalLock = false;
      }
      executeRealtime(m);
      if (m.clock.now() < m.busyUntil || m.afterBusy) continue;
      if (m.abort) {
        this.reinitialize();
        continue;
      }
      if (suspendStep(m)) continue;
      if (this.inputStep()) continue;
      return;
    }
  }

  /** One unit of work on the input: a character read, a line started, or a step of the current line. */
  private inputStep(): boolean {
    const m = this.m;
    if (m.suspended) {
      // GRBL sits in its suspend loop: no characters are read, and a dwell does not count down.
      freezeDwell(m, this.job);
      return false;
    }
    if (this.job) return this.advanceJob(this.job);
    if (this.readyLine) {
      const line = this.readyLine;
      this.readyLine = null;
      this.executeLine(line);
      return true;
    }
    const byte = m.rx.read();
    if (byte === undefined) return autoCycleStart(m); // nothing more to read: start what is buffered
    this.readyLine = this.reader.push(byte);
    return true;
  }

  private executeLine({ line, overflow }: ReadLine): void {
    const reply = (status: Status) => {
      if (!this.loseAnswer(line)) this.m.sendLine(status === STATUS_OK ? 'ok' : `error:${status}`);
    };
    if (overflow) return reply(ERROR.overflow);
    if (line === '') return reply(STATUS_OK); // an empty line or a comment: `ok`, for syncing
    if (this.refuseNext !== null) {
      const code = this.refuseNext;
      this.refuseNext = null;
      return reply(code as Status);
    }
    let steps: Step[];
    if (line.startsWith('$')) {
      const result = executeSystemCommand(line, this.m);
      if ('status' in result) return reply(result.status);
      steps = result.steps;
    } else {
      if (this.m.state === 'Alarm' || this.m.state === 'Jog') return reply(ERROR.gcodeLock);
      const parsed = parseBlock(line, this.m.parser);
      if (!parsed.ok) return reply(parsed.error);
      steps = parsed.steps;
    }
    this.job = newJob(steps, reply);
  }

  /** Work on the current line. Returns whether anything happened. */
  private advanceJob(job: Job): boolean {
    const step = job.steps[job.index];
    if (!step) {
      this.job = null;
      job.finish(STATUS_OK);
      return true;
    }
    const outcome = runStep(this.m, step, job);
    if (outcome === 'wait') return false;
    if (outcome === 'done') {
      job.index++;
      job.phase = 0;
      job.dwell = null;
    } else if (outcome !== 'progress') {
      this.job = null;
      job.finish(outcome.status);
    }
    return true;
  }

  /**
   * A soft reset comes into effect (sys.abort): GRBL goes back to main() and re-initialises everything but the
   * machine position, prints its banner, and stays in Alarm if it was in Alarm (or asleep).
   */
  private reinitialize(): void {
    const m = this.m;
    // A line that was waiting inside GRBL when the reset came (for the planner, a dwell, homing, cycle start…)
    // returns to the parser, which still answers it `ok` — just before the banner. A quirk worth knowing.
    const interrupted = this.job;
    this.job = null;
    interrupted?.finish(STATUS_OK);

    const prior = m.state;
    m.exec = noFlags();
    m.execAlarm = 0;
    m.suspend = noSuspend();
    m.holdInProgress = m.softLimit = m.abort = m.criticalLock = m.sleeping = false;
    m.restoring = null;
    m.restoreTimer.cancel();
    m.dwellTimer.cancel();
    m.watchProbe(false);
    m.lastProbe = { position: [0, 0, 0], succeeded: false }; // main.c clears sys_probe_position
    if (m.homing.running) m.homing.abort();
    m.stepper.kill();
    m.rx.flush();
    this.reader.clear();
    this.readyLine = null;
    const position = m.position();
    m.parser.reset(position);
    m.wco = m.parser.wco; // G54's stored offset survives the reset; G92's does not
    m.planner.reset(position);
    m.counters.reset();
    m.setSpindle(5, 0);
    m.setCoolant(0);

    m.transmit(BANNER);
    // CHECK_LIMITS_AT_INIT (on in GRBL's config.h): a limit switch pressed at start-up locks GRBL in Alarm.
    const limitPressed = m.settings.hardLimits && m.limitSwitchesPressed().length > 0;
    if (limitPressed) m.sendLine(MESSAGE.checkLimits);
    if (prior === 'Alarm' || prior === 'Sleep' || limitPressed) {
      m.sendLine(MESSAGE.alarmLock);
      m.state = 'Alarm';
      return;
    }
    m.state = 'Idle';
    if (m.doorPin) m.exec.safetyDoor = true; // door open at start-up: straight into the door state
    if (m.startupLines.some(Boolean)) this.job = newJob([{ kind: 'startupLines' }], () => {});
  }
}
