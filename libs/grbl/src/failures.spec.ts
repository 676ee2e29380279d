// Every failure the driver and the controller know, as the hardware reply answers it: the table of docs/hardware.md.
import { describe, expect, it } from 'vitest';
import { describeAlarm } from './driver/codes.js';
import { GcodeLineRefused, GrblDisconnected, GrblError, GrblLostReply, GrblReset, GrblTimeout } from './driver/errors.js';
import { DeckOriginUnknown, MachineNotHomed } from './driver/grbl-controller.js';
import { describeFailure } from './failures.js';
import { MachineAlarm, MotionAborted, ProbeFailed } from './motion-controller.js';

const alarm = (code: number) => new MachineAlarm({ code, message: describeAlarm(code).message });

describe('describeFailure', () => {
  it('answers the start-up lock with not-homed: home, then retry; nothing moved, so no position lost', () => {
    expect(describeFailure(new MachineNotHomed('GRBL is in Alarm after start-up (homing is enabled, $22=1)'))).toEqual({
      code: 'not-homed',
      message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1): home the machine, then retry',
    });
  });

  it("answers a hard limit and an abort during a cycle with GRBL's text, position lost and home before moving", () => {
    expect(describeFailure(alarm(1))).toEqual({
      code: 'alarm',
      message:
        'ALARM:1 Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended. ' +
        'Position lost: home the machine before moving again (it stopped dead at a limit switch; see what is in the way).',
      positionLost: true,
    });
    expect(describeFailure(alarm(3))).toMatchObject({
      code: 'alarm',
      message: expect.stringMatching(/^ALARM:3 Reset while in motion\. .* Position lost: home the machine before moving again\.$/),
      positionLost: true,
    });
  });

  it('answers a probe that touched nothing, or touched before it moved, with its own code: position kept, unlock', () => {
    const five = describeAlarm(5);
    expect(describeFailure(new ProbeFailed('probe-no-contact', `the probe touched nothing on its way to Z 20: ALARM:5 ${five.message}`, five))).toEqual({
      code: 'probe-no-contact',
      message:
        'the probe touched nothing on its way to Z 20: ALARM:5 Probe fail. Probe did not contact the workpiece within the programmed travel for G38.2 and G38.4. ' +
        'Position kept; GRBL is in alarm until unlocked: unlock, then retry or skip the probe (check the probe and its wiring if there was something to touch).',
    });
    expect(describeFailure(new ProbeFailed('probe-already-in-contact', 'the probe was touching something before it moved toward Z 20: ALARM:4 …', null))).toMatchObject({
      code: 'probe-already-in-contact',
      message: expect.stringMatching(/Position kept; GRBL is in alarm until unlocked: unlock, then skip the probe, or move the probe clear and retry\.$/),
    });
  });

  it('names the refused line of a G-code block, and says the block runs again from its start on a retry', () => {
    expect(describeFailure(new GcodeLineRefused(2, 'G1 Z-2', 22))).toEqual({
      code: 'grbl-error',
      message:
        'GRBL refused line 2 of the G-code block, "G1 Z-2": error:22 Feed rate has not yet been set or is undefined. ' +
        'The lines before it ran and none after it was sent: check the line, then retry (the block runs again from its first line) or skip it.',
    });
  });

  it('keeps the position on a soft limit and a probe failure, and says to unlock', () => {
    const soft = describeFailure(alarm(2));
    expect(soft).toEqual({
      code: 'alarm',
      message:
        'ALARM:2 G-code motion target exceeds machine travel. Machine position safely retained. Alarm may be unlocked. ' +
        "Position kept: unlock the machine, then skip the move or correct its target (it lies outside the machine's travel).",
    });
    expect(describeFailure(alarm(5))).not.toHaveProperty('positionLost');
  });

  it('counts a failed homing cycle, and an alarm GRBL 1.1 does not define, as position lost', () => {
    expect(describeFailure(alarm(7))).toMatchObject({
      positionLost: true,
      message: expect.stringMatching(/Homing failed and the position is unknown: close the door, then home the machine again\.$/),
    });
    expect(describeFailure(alarm(9))).toMatchObject({ positionLost: true, message: expect.stringMatching(/check the limit switches and their wiring, then home the machine again\.$/) });
    expect(describeFailure(alarm(42))).toMatchObject({ code: 'alarm', positionLost: true, message: expect.stringMatching(/Position lost: home the machine before moving again\.$/) });
  });

  it("answers error:N with GRBL's text and what to do about that error; GRBL ran none of the line", () => {
    expect(describeFailure(new GrblError('G90 G21 G53 G1 X-289 F3000', 20))).toEqual({
      code: 'grbl-error',
      message: 'GRBL refused "G90 G21 G53 G1 X-289 F3000": error:20 Unsupported or invalid g-code command found in block. GRBL executed none of the line: check the command, then retry or skip it.',
    });
    expect(describeFailure(new GrblError('$H', 13)).message).toBe('GRBL refused "$H": error:13 Safety door detected as opened and door state initiated. Close the door, then retry.');
    expect(describeFailure(new GrblError('G4 P0', 9)).message).toBe('GRBL refused "G4 P0": error:9 G-code locked out during alarm or jog state. Home the machine (or unlock it), then retry.');
  });

  it('counts a restart GRBL made on its own, and a serial line that closed, as position lost', () => {
    expect(describeFailure(new GrblReset('G4 P0'))).toEqual({
      code: 'reset',
      message: 'GRBL was reset before it answered "G4 P0": a power cut, its board restarting, or another program\'s Ctrl-X. Position lost: home the machine before moving again.',
      positionLost: true,
    });
    expect(describeFailure(new GrblDisconnected('the connection to GRBL on /dev/ttyUSB0 closed during the command'))).toEqual({
      code: 'disconnected',
      message:
        'the connection to GRBL on /dev/ttyUSB0 closed during the command. GRBL restarts when its port is opened again (an Arduino resets), so labrun counts the position as ' +
        'lost: reconnect the controller (check its cable and power), then home it.',
      positionLost: true,
    });
  });

  it('answers silence with timeout and a lost answer with lost-reply, both keeping the position', () => {
    const timeout = describeFailure(new GrblTimeout('GRBL on /dev/ttyUSB0 sent nothing for 10 s, not even a status report, while "G4 P0" awaited its answer: it may have hung, or the link is broken'));
    expect(timeout).toEqual({
      code: 'timeout',
      message:
        'GRBL on /dev/ttyUSB0 sent nothing for 10 s, not even a status report, while "G4 P0" awaited its answer: it may have hung, or the link is broken. ' +
        'Check that the controller is powered and its cable is in, then retry (home it first if it restarted).',
    });
    expect(describeFailure(new GrblLostReply('G4 P0', 2100))).toEqual({ code: 'lost-reply', message: expect.stringMatching(/the machine is where its status report says\. Retry the command\.$/) });
  });

  it('passes failures that say what to do themselves through, a bad target as bad-request, and anything else as failed', () => {
    expect(describeFailure(new MotionAborted())).toEqual({ code: 'aborted', message: 'motion stopped' });
    expect(describeFailure(new DeckOriginUnknown('GRBL refused $$'))).toMatchObject({ code: 'no-deck-origin', message: expect.stringContaining('set DEVICE_ORIGIN') });
    expect(describeFailure(new RangeError('a move needs coordinates within ±100000 mm'))).toEqual({ code: 'bad-request', message: 'a move needs coordinates within ±100000 mm' });
    expect(describeFailure('a string')).toEqual({ code: 'failed', message: 'a string' });
  });
});
