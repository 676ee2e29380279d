// Carrying out a line's steps, with the waits GRBL makes inside a line: mc_line() waits for room in the
// planner, protocol_buffer_synchronize() for the buffered moves to finish, mc_dwell() for the dwell time, M0 for
// cycle start, `$H` for the homing cycle. A step that must wait answers 'wait' and is tried again whenever the
// main loop runs. Check mode ($C) parses everything and moves nothing.
import { ALARM, ERROR, type Status } from './codes.js';
import { parseBlock, type GcodeStep } from './gcode.js';
import type { Machine } from './machine.js';
import { MESSAGE, probeParameters } from './report.js';
import type { Job, Step } from './steps.js';
import { AXES, type Vec3 } from './vector.js';

/** GRBL's dwell counts in steps of DWELL_TIME_STEP ms, so `G4 P0.01` waits 50 ms. */
const DWELL_TIME_STEP_MS = 50;

/** done: go on with the next step; wait: try again later; progress: something changed, run the loop again. */
export type Outcome = 'done' | 'wait' | 'progress' | { status: Status };

export function runStep(m: Machine, step: Step, job: Job): Outcome {
  const checking = m.state === 'Check';
  switch (step.kind) {
    case 'call':
      step.run();
      return 'done';

    case 'sync':
      // protocol_buffer_synchronize(): wait until every buffered move is done.
      if (!m.planner.current() && m.state !== 'Cycle') return 'done';
      return autoCycleStart(m) ? 'progress' : 'wait';

    case 'dwell': {
      if (checking) return 'done';
      const steps = Math.ceil(step.seconds * (1000 / DWELL_TIME_STEP_MS) - 1e-9);
      const dwell = (job.dwell ??= { remaining: steps * DWELL_TIME_STEP_MS, resumedAt: null });
      const now = m.clock.now();
      if (dwell.resumedAt === null) dwell.resumedAt = now;
      if (now - dwell.resumedAt >= dwell.remaining) return 'done';
      m.dwellTimer.at(dwell.resumedAt + dwell.remaining, m.wake);
      return 'wait';
    }

    case 'line':
      // mc_line(): the soft limit check comes first, even in check mode.
      if (m.settings.softLimits && !withinTravel(m, step.target)) return softLimitViolation(m, job);
      if (checking) return 'done';
      if (m.planner.full) return autoCycleStart(m) ? 'progress' : 'wait';
      m.planner.add(step.target, { feed: step.feed, rapid: step.rapid, jog: false });
      return 'done';

    case 'jog':
      if (m.settings.softLimits && !withinTravel(m, step.target)) return { status: ERROR.travelExceeded };
      if (m.planner.full) return 'wait';
      m.planner.add(step.target, { feed: step.feed, rapid: false, jog: true });
      m.parser.position = [...step.target];
      if (m.state === 'Idle' && m.planner.current()) {
        m.state = 'Jog'; // a jog starts at once, without cycle start
        m.stepper.wake();
      }
      return 'done';

    case 'spindle':
      if (!checking) m.setSpindle(step.state, step.speed);
      return 'done';

    case 'coolant':
      if (!checking) m.setCoolant(step.state);
      return 'done';

    case 'pause':
      // M0: a feed hold from the program. The line is answered once cycle start has resumed it.
      if (checking) return 'done';
      if (job.phase === 0) {
        job.phase = 1;
        m.exec.feedHold = true;
        return 'progress';
      }
      return 'done';

    case 'probe':
      return probeCycle(m, step, job);

    case 'programEnd':
      if (!checking) {
        m.setSpindle(5, 0);
        m.setCoolant(0);
        m.counters.refreshWco();
      }
      m.sendLine(MESSAGE.programEnd);
      return 'done';

    case 'workOffset':
      m.wco = [...step.wco];
      m.counters.refreshWco(); // system_flag_wco_change(): the next report shows the new WCO
      return 'done';

    case 'home':
      if (job.phase === 0) {
        job.phase = 1;
        m.state = 'Homing';
        m.limitPins.clear();
        m.homing.start(() => {
          job.phase = 2;
          m.wake();
        });
        return 'progress';
      }
      if (job.phase === 1) return 'wait';
      // Homed: the parser and the planner start again from the origin.
      m.state = 'Idle';
      m.parser.position = m.position();
      m.planner.reset(m.position());
      return 'done';

    case 'startupLines':
      job.steps.splice(job.index + 1, 0, ...startupSteps(m));
      return 'done';
  }
}

/**
 * mc_probe_cycle() (G38.2, G38.3), the planner empty: with the probe touching already, ALARM:4 and nothing moves;
 * otherwise move toward the target watching the probe, until it touches (the motion is cancelled and decelerates
 * along the path, past the contact) or the target is reached — ALARM:5 for G38.2. Then `[PRB:x,y,z:1]` (or `:0`)
 * with where it touched, in machine coordinates; the rest of the motion is thrown away and the parser goes on from
 * where the machine stopped (touched) or the target (not).
 */
function probeCycle(m: Machine, step: Extract<GcodeStep, { kind: 'probe' }>, job: Job): Outcome {
  if (m.state === 'Check') {
    m.parser.position = [...step.target];
    return 'done';
  }
  switch (job.phase) {
    case 0:
      m.lastProbe.succeeded = false;
      if (m.probeTouching()) {
        m.execAlarm = ALARM.probeFailInitial; // printed before the line's `ok`; the parser position stays
        job.phase = 3;
        return 'progress';
      }
      m.planner.add(step.target, { feed: step.feed, rapid: false, jog: false });
      m.watchProbe(true);
      m.exec.cycleStart = true;
      job.phase = 1;
      return 'progress';
    case 1: {
      // Until the machine is at rest again: touched and stopped, or at the target (a hold on the way waits for `~`).
      if (m.state !== 'Idle' || m.exec.cycleStart) return 'wait';
      const touched = !m.probing;
      m.watchProbe(false);
      if (!touched && step.noError) m.lastProbe.position = m.position();
      if (!touched && !step.noError) m.execAlarm = ALARM.probeFailContact;
      m.lastProbe.succeeded = touched;
      m.planner.reset(m.position()); // st_reset, plan_reset, plan_sync_position: the rest of the motion goes
      job.phase = 2;
      return 'progress'; // an alarm is printed (and waited out) before the report
    }
    case 2:
      m.sendLine(probeParameters(m.lastProbe, m.settings));
      m.parser.position = m.lastProbe.succeeded ? m.position() : [...step.target];
      return 'done';
    default:
      return 'done';
  }
}

/** With moves buffered and nothing better to do, start them (protocol_auto_cycle_start). */
export function autoCycleStart(m: Machine): boolean {
  if (m.state !== 'Idle' || !m.planner.current() || m.exec.cycleStart) return false;
  m.exec.cycleStart = true;
  return true;
}

/** While suspended a dwell does not count down (GRBL's dwell loop sits in the suspend loop meanwhile). */
export function freezeDwell(m: Machine, job: Job | null): void {
  const dwell = job?.dwell;
  if (!dwell || dwell.resumedAt === null) return;
  dwell.remaining -= m.clock.now() - dwell.resumedAt;
  dwell.resumedAt = null;
  m.dwellTimer.cancel();
}

/** The stored startup lines, each executed and then reported as `>G21:ok` or `>G21:error:20`. */
function startupSteps(m: Machine): Step[] {
  const steps: Step[] = [];
  for (const line of m.startupLines) {
    if (!line) continue;
    const parsed = parseBlock(line, m.parser);
    if (parsed.ok) steps.push(...parsed.steps, { kind: 'call', run: () => m.sendLine(`>${line}:ok`) });
    else steps.push({ kind: 'call', run: () => m.sendLine(`>${line}:error:${parsed.error}`) });
  }
  return steps;
}

/**
 * limits_soft_check(): the target lies outside the machine's travel. A machine in motion first stops with a
 * controlled feed hold (so its position stays valid), then comes the critical ALARM:2.
 */
function softLimitViolation(m: Machine, job: Job): Outcome {
  if (job.phase === 0) {
    job.phase = 1;
    m.softLimit = true;
    if (m.state === 'Cycle') m.exec.feedHold = true;
    return 'progress';
  }
  if (job.phase === 1 && m.state !== 'Hold' && m.state !== 'Cycle') {
    job.phase = 2;
    m.reset();
    m.execAlarm = ALARM.softLimit;
    return 'progress';
  }
  return 'wait'; // until the reset, which ends the line
}

function withinTravel(m: Machine, target: Vec3): boolean {
  return AXES.every((axis) => {
    const { min, max } = m.settings.travel(axis);
    return target[axis] >= min && target[axis] <= max;
  });
}
