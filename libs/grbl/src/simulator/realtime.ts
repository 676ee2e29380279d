// GRBL's real-time state machine (protocol.c: protocol_exec_rt_system and protocol_exec_rt_suspend): what the
// main loop does with the flags that `?`, `!`, `~`, 0x18, 0x84, 0x85, the door switch and the stepper raise.
//   feed hold  Cycle → Hold:1 (decelerating) → Hold:0 (stopped, ready to resume); Idle → Hold:0 at once
//   door       → Door:2 (stopping) → Door:1 (stopped, door ajar) → Door:0 (closed, ready) → ~ → Door:3
//              (restarting spindle/coolant) → Run
//   cycle start  resumes a completed hold, or a closed door; ignored otherwise
//   jog cancel   decelerates a jog, then throws the rest of it away
import { ALARM } from './codes.js';
import { COOLANT } from './gcode.js';
import { noSuspend, type ExecFlags, type Machine } from './machine.js';
import { MESSAGE, statusReport } from './report.js';
import { AXES, AXIS_LETTERS } from './vector.js';

/** report_alarm_message() waits this long after printing `ALARM:N` so the message leaves the serial buffer. */
const ALARM_REPORT_DELAY_MS = 500;
/** After the door closes and cycle start is sent, GRBL gives the spindle and the coolant time to start. */
const SAFETY_DOOR_SPINDLE_DELAY_MS = 4000;
const SAFETY_DOOR_COOLANT_DELAY_MS = 1000;

/** protocol_exec_rt_system(): act on the pending alarm and real-time flags. */
export function executeRealtime(m: Machine): void {
  if (m.execAlarm) {
    const code = m.execAlarm;
    m.execAlarm = 0;
    m.state = 'Alarm';
    m.sendLine(`ALARM:${code}`);
    m.busyUntil = m.clock.now() + ALARM_REPORT_DELAY_MS;
    if (code === ALARM.hardLimit || code === ALARM.softLimit) {
      // A critical event: block everything until the user resets. A reset already pending is discarded.
      m.afterBusy = () => {
        m.sendLine(MESSAGE.criticalEvent);
        m.exec.reset = false;
        m.criticalLock = true;
      };
    }
    return; // the rest waits until the alarm has been printed
  }
  const exec = { ...m.exec };
  if (exec.reset) {
    m.abort = true;
    return;
  }
  if (exec.statusReport) {
    m.exec.statusReport = false;
    m.sendLine(currentStatusReport(m));
  }
  if (exec.motionCancel || exec.feedHold || exec.safetyDoor || exec.sleep) {
    startHold(m, exec);
    m.exec.motionCancel = m.exec.feedHold = m.exec.safetyDoor = m.exec.sleep = false;
  }
  if (exec.cycleStart) {
    // A cycle start that arrives together with a hold does nothing: the hold wins.
    if (!(exec.feedHold || exec.motionCancel || exec.safetyDoor)) cycleStart(m);
    m.exec.cycleStart = false;
  }
  if (m.exec.cycleStop) {
    m.exec.cycleStop = false;
    cycleStop(m);
  }
}

/** Feed hold, safety door, jog cancel and sleep: decelerate if moving, then suspend. */
function startHold(m: Machine, exec: ExecFlags): void {
  if (m.state !== 'Alarm' && m.state !== 'Check') {
    if ((m.state === 'Cycle' || m.state === 'Jog') && !(m.suspend.motionCancel || m.suspend.jogCancel)) {
      m.stepper.hold();
      m.holdInProgress = true;
      if (m.state === 'Jog' && !exec.sleep) m.suspend.jogCancel = true; // any hold cancels a jog
    }
    if (m.state === 'Idle') m.suspend = { ...noSuspend(), holdComplete: true }; // nothing to slow down
    if (exec.motionCancel && m.state !== 'Jog') m.suspend.motionCancel = true;
    if (exec.feedHold && m.state !== 'Door' && m.state !== 'Jog' && m.state !== 'Sleep') m.state = 'Hold';
    if (exec.safetyDoor) {
      m.sendLine(MESSAGE.safetyDoorAjar);
      if (!m.suspend.jogCancel) {
        if (m.state === 'Door' && m.suspend.initiateRestore) {
          // Opened again while resuming: back to "stopped, door ajar".
          m.suspend.retractComplete = m.suspend.initiateRestore = m.suspend.restoreComplete = false;
          m.suspend.restartRetract = true;
          m.restoring = null;
          m.restoreTimer.cancel();
        }
        if (m.state !== 'Sleep') m.state = 'Door';
      }
      m.suspend.doorAjar = true; // stays set until the door is seen closed
    }
  }
  if (exec.sleep) {
    if (m.state === 'Alarm') m.suspend.retractComplete = m.suspend.holdComplete = true;
    m.state = 'Sleep';
  }
}

/** Cycle start (`~`, or the main loop itself when moves are buffered): run, or resume from a hold or the door. */
function cycleStart(m: Machine): void {
  const s = m.suspend;
  if (m.state === 'Door' && !s.doorAjar) {
    if (s.restoreComplete)
      m.state = 'Idle'; // back from the door: resume below
    else if (s.retractComplete) s.initiateRestore = true; // Door:3: restore spindle and coolant first
  }
  if (m.state === 'Idle' || (m.state === 'Hold' && s.holdComplete)) {
    m.holdInProgress = false;
    const resume = m.planner.current() !== undefined && !s.motionCancel;
    m.suspend = noSuspend();
    m.state = resume ? 'Cycle' : 'Idle';
    if (resume) m.stepper.wake();
  }
}

/** The stepper came to rest: either a hold is complete, or the motion (or a jog cancel) is over. */
function cycleStop(m: Machine): void {
  const s = m.suspend;
  if ((m.state === 'Hold' || m.state === 'Door' || m.state === 'Sleep') && !m.softLimit && !s.jogCancel) {
    if (m.holdInProgress) s.holdComplete = true; // ready to resume: Hold:0, or Door:1 / Door:0
    m.holdInProgress = false;
    return;
  }
  m.holdInProgress = false; // at rest: a motion cancel (a probe that touched) or a soft limit's hold is over too
  if (s.jogCancel) {
    // A cancelled jog throws away the rest of the jog moves; the parser continues from where it stopped.
    m.planner.reset(m.position());
    m.parser.position = m.position();
  }
  if (s.doorAjar) {
    s.jogCancel = false;
    s.holdComplete = true;
    m.state = 'Door';
  } else {
    m.suspend = noSuspend();
    m.state = 'Idle';
  }
}

/** protocol_exec_rt_suspend(): what happens while stopped at the door or asleep. Returns whether anything changed. */
export function suspendStep(m: Machine): boolean {
  const s = m.suspend;
  if (!s.holdComplete || (m.state !== 'Door' && m.state !== 'Sleep')) return false;
  if (!s.retractComplete) {
    // No parking motion is built in: the door (or sleep) just switches the spindle and the coolant off.
    m.setSpindle(5, 0);
    m.setCoolant(0);
    s.restartRetract = false;
    s.retractComplete = true;
    return true;
  }
  if (m.state === 'Sleep') {
    if (m.sleeping) return false; // until a reset
    m.sleeping = true;
    m.sendLine(MESSAGE.sleeping);
    return true;
  }
  let changed = false;
  if (s.doorAjar && !m.doorPin) {
    s.doorAjar = false; // closed: Door:0, ready to resume
    changed = true;
  }
  if (s.initiateRestore && !s.restoreComplete) {
    if (!m.restoring) {
      // Switch spindle and coolant back on as the program had them, and give them time to start.
      let delay = 0;
      const gc = m.parser;
      if (gc.modal.spindle !== 5) {
        m.setSpindle(gc.modal.spindle, gc.spindleSpeed);
        delay += SAFETY_DOOR_SPINDLE_DELAY_MS;
      }
      if (gc.modal.coolant !== 0) {
        // GRBL 1.1h restores flood only (protocol.c masks with PL_COND_FLAG_COOLANT_FLOOD twice): mist stays off,
        // though $G still shows M7, and the delay is waited all the same.
        m.setCoolant(gc.modal.coolant & COOLANT.flood);
        delay += SAFETY_DOOR_COOLANT_DELAY_MS;
      }
      m.restoring = { until: m.clock.now() + delay };
      m.restoreTimer.at(m.restoring.until, m.wake);
      return true;
    }
    if (m.clock.now() >= m.restoring.until) {
      m.restoring = null;
      s.restoreComplete = true;
      m.exec.cycleStart = true; // and resume the program
      return true;
    }
  }
  return changed;
}

/** The `<…>` status report for the machine as it is now. */
function currentStatusReport(m: Machine): string {
  const position = m.position();
  let pins = m.probeTouching() ? 'P' : '';
  const pressed = m.limitSwitchesPressed();
  for (const axis of AXES) if (pressed.includes(axis)) pins += AXIS_LETTERS[axis];
  if (m.doorPin) pins += 'D';
  return statusReport(
    {
      state: m.reportedState(),
      busy: ['Homing', 'Cycle', 'Hold', 'Jog', 'Door'].includes(m.state),
      position,
      wco: m.wco,
      plannerFree: m.planner.available,
      rxFree: m.rx.available,
      feed: m.stepper.speed(),
      spindle: m.spindle.rpm,
      pins,
      accessories: m.accessories(),
    },
    m.settings,
    m.counters,
  );
}
