// How a failed hardware operation is answered: every failure the GRBL driver and controller know, as the reply's
// `code`, a message with the controller's own words and then what the operator does, and `positionLost` when the
// machine must be homed before it moves again. docs/hardware.md has the same table for people.
import type { HardwareReply } from '@labrun/contracts';
import { alarmLosesPosition } from './driver/codes.js';
import { GcodeLineRefused, GrblDisconnected, GrblError, GrblLostReply, GrblReset, GrblTimeout } from './driver/errors.js';
import { MachineNotHomed } from './driver/grbl-controller.js';
import { MachineAlarm, ProbeFailed } from './motion-controller.js';

/** A failed reply without its id. */
export type HardwareFailure = Omit<Extract<HardwareReply, { ok: false }>, 'id' | 'ok'>;

const POSITION_LOST = 'position lost: home the machine before moving again';
const HOMING_FAILED = 'homing failed and the position is unknown:';

/** What to do after each GRBL 1.1 alarm (GRBL's own text says what happened). */
const ALARM_ADVICE: ReadonlyMap<number, string> = new Map([
  [1, `${POSITION_LOST} (it stopped dead at a limit switch; see what is in the way)`],
  [2, "position kept: unlock the machine, then skip the move or correct its target (it lies outside the machine's travel)"],
  [3, POSITION_LOST],
  [4, 'position kept: check the probe and its wiring, unlock the machine, then retry'],
  [5, 'position kept: check the probe and its wiring, unlock the machine, then retry'],
  [6, `${HOMING_FAILED} home the machine again`],
  [7, `${HOMING_FAILED} close the door, then home the machine again`],
  [8, `${HOMING_FAILED} check the limit switches and their wiring, then home the machine again`],
  [9, `${HOMING_FAILED} check the limit switches and their wiring, then home the machine again`],
  [10, `${HOMING_FAILED} check the limit switches and their wiring, then home the machine again`],
]);

/** What to do after a GRBL 1.1 `error:N` where it is not "check the command". */
const ERROR_ADVICE: ReadonlyMap<number, string> = new Map([
  [5, 'homing is not enabled on this controller ($22=0): skip the home command, or enable homing'],
  [8, 'wait until the machine is idle (not moving, not held), then retry'],
  [9, 'home the machine (or unlock it), then retry'],
  [13, 'close the door, then retry'],
]);

/** After a probe that did not touch: GRBL kept its position but is in alarm (ALARM:4, 5) until unlocked. */
const PROBE_ADVICE: Record<ProbeFailed['code'], string> = {
  'probe-no-contact': 'position kept; GRBL is in alarm until unlocked: unlock, then retry or skip the probe (check the probe and its wiring if there was something to touch)',
  'probe-already-in-contact': 'position kept; GRBL is in alarm until unlocked: unlock, then skip the probe, or move the probe clear and retry',
};

const RECONNECT = 'GRBL restarts when its port is opened again (an Arduino resets), so labrun counts the position as lost: reconnect the controller (check its cable and power), then home it';
const CHECK_LINK = 'check that the controller is powered and its cable is in, then retry (home it first if it restarted)';

/** The reply for an operation that failed with `error`, whatever it is. */
export function describeFailure(error: unknown): HardwareFailure {
  if (error instanceof MachineNotHomed) return { code: error.code, message: advise(error.message, 'home the machine, then retry') };
  if (error instanceof MachineAlarm) {
    const lost = alarmLosesPosition(error.alarm.code);
    return { code: error.code, message: advise(error.message, ALARM_ADVICE.get(error.alarm.code) ?? POSITION_LOST), ...(lost ? { positionLost: true } : {}) };
  }
  if (error instanceof ProbeFailed) return { code: error.code, message: advise(error.message, PROBE_ADVICE[error.code]) };
  if (error instanceof GcodeLineRefused) {
    const advice = ERROR_ADVICE.get(error.grblCode) ?? 'the lines before it ran and none after it was sent: check the line, then retry (the block runs again from its first line) or skip it';
    return { code: error.code, message: advise(error.message, advice) };
  }
  if (error instanceof GrblError) {
    return { code: error.code, message: advise(error.message, ERROR_ADVICE.get(error.grblCode) ?? 'GRBL executed none of the line: check the command, then retry or skip it') };
  }
  if (error instanceof GrblReset) {
    return { code: error.code, message: advise(`${error.message}: a power cut, its board restarting, or another program's Ctrl-X`, POSITION_LOST), positionLost: true };
  }
  if (error instanceof GrblDisconnected) return { code: error.code, message: advise(error.message, RECONNECT), positionLost: true };
  if (error instanceof GrblTimeout) return { code: error.code, message: advise(error.message, CHECK_LINK) };
  if (error instanceof GrblLostReply) return { code: error.code, message: advise(error.message, 'retry the command') };
  if (error instanceof RangeError) return { code: 'bad-request', message: error.message };
  // Failures that say what to do themselves (no-deck-origin, aborted, unknown-output) or that no controller here raises.
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === 'string' ? code : 'failed', message: error instanceof Error ? error.message : String(error) };
}

/** The controller's words, then what to do: after a colon when both are one short clause, else as a sentence of its own. */
function advise(words: string, advice: string): string {
  if (!words.endsWith('.') && !words.includes(':') && !advice.includes(':')) return `${words}: ${advice}`;
  return `${words}${words.endsWith('.') ? '' : '.'} ${advice[0]!.toUpperCase()}${advice.slice(1)}.`;
}
