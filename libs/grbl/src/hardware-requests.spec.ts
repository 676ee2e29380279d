// Hardware requests decoded from raw payloads and carried out on a motion controller.
import { describe, expect, it } from 'vitest';
import type { HardwareReply, HardwareState } from '@labrun/contracts';
import { readHardwareRequest, runHardwareRequest } from './hardware-requests.js';
import { describeAlarm } from './driver/codes.js';
import { MachineAlarm, MotionAborted, ProbeFailed, type MotionController, type MoveTarget, type ProbeTarget } from './motion-controller.js';
import { UnknownOutput } from './outputs.js';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('readHardwareRequest', () => {
  it('reads a valid request', () => {
    const read = readHardwareRequest(bytes({ id: 'r1', replyTo: 'engine/e1/replies', op: 'move', params: { x: 1 } }));
    expect(read).toEqual({ ok: true, request: { id: 'r1', replyTo: 'engine/e1/replies', op: 'move', params: { x: 1 } } });
  });

  it('refuses garbage without a reply address: not JSON, not UTF-8, too big, not an object', () => {
    for (const payload of [bytes('hello'), Buffer.from([0xff, 0xfe, 0x7b]), Buffer.alloc(200_000, 0x20), bytes([1, 2])]) {
      const read = readHardwareRequest(payload);
      expect(read.ok).toBe(false);
      expect(read).not.toHaveProperty('reply');
    }
  });

  it('refuses a gcode request with a line GRBL must not get, as at create', () => {
    const read = readHardwareRequest(bytes({ id: 'r4', replyTo: 'engine/e1/replies', op: 'gcode', params: { lines: ['G0 X1', '$X'] } }));
    expect(read).toMatchObject({ ok: false, reply: { id: 'r4', ok: false, code: 'bad-request', message: expect.stringContaining('G-code line 2 "$X"') } });
  });

  it('answers a bad request that says where to reply with bad-request', () => {
    const read = readHardwareRequest(bytes({ id: 'r2', replyTo: 'engine/e1/replies', op: 'fly' }));
    expect(read).toMatchObject({ ok: false, replyTo: 'engine/e1/replies', reply: { id: 'r2', ok: false, code: 'bad-request' } });
    if (!read.ok) expect(read.reply).toMatchObject({ message: expect.stringContaining('at op') });
  });

  it('does not reply to a wildcard topic', () => {
    expect(readHardwareRequest(bytes({ id: 'r3', replyTo: 'engine/#', op: 'fly' }))).not.toHaveProperty('reply');
    expect(readHardwareRequest(bytes({ id: 'r3', replyTo: 'engine/+/x', op: 'status' })).ok).toBe(false);
  });
});

describe('runHardwareRequest', () => {
  it('answers a move when the motion completes, and a status at once even while moving', async () => {
    const machine = new ScriptedMachine();
    const replies: HardwareReply[] = [];
    void runHardwareRequest(machine, { id: 'm', replyTo: 'r', op: 'move', params: { x: 10, feed: 600 } }).then((r) => replies.push(r));
    expect(machine.calls).toEqual([['move', { x: 10, feed: 600 }]]);
    machine.now = { machine: 'Run', position: { x: 5, y: 0, z: 0 } };
    replies.push(await runHardwareRequest(machine, { id: 's', replyTo: 'r', op: 'status' }));
    expect(replies).toMatchObject([{ id: 's', ok: true, state: { machine: 'Run', position: { x: 5 } } }]);
    machine.finish({ machine: 'Idle', position: { x: 10, y: 0, z: 0 } });
    await Promise.resolve();
    await Promise.resolve();
    expect(replies[1]).toMatchObject({ id: 'm', ok: true, state: { machine: 'Idle', position: { x: 10, y: 0, z: 0 } } });
  });

  it('maps each op onto the controller', async () => {
    const machine = new ScriptedMachine();
    await runHardwareRequest(machine, { id: '1', replyTo: 'r', op: 'hold' });
    await runHardwareRequest(machine, { id: '2', replyTo: 'r', op: 'release' });
    await runHardwareRequest(machine, { id: '3', replyTo: 'r', op: 'stop' });
    void runHardwareRequest(machine, { id: '4', replyTo: 'r', op: 'home' });
    void runHardwareRequest(machine, { id: '5', replyTo: 'r', op: 'dwell', params: { seconds: 2 } });
    void runHardwareRequest(machine, { id: '6', replyTo: 'r', op: 'unlock' });
    void runHardwareRequest(machine, { id: '7', replyTo: 'r', op: 'set-output', params: { output: 'pump', value: 0.5 } });
    void runHardwareRequest(machine, { id: '8', replyTo: 'r', op: 'gcode', params: { lines: ['G91', 'G1 Z-2 F300'] } });
    void runHardwareRequest(machine, { id: '9', replyTo: 'r', op: 'probe', params: { z: 20, feed: 100 } });
    expect(machine.calls).toEqual([
      ['hold'],
      ['release'],
      ['stop'],
      ['home'],
      ['dwell', 2],
      ['unlock'],
      ['set-output', 'pump', 0.5],
      ['gcode', ['G91', 'G1 Z-2 F300']],
      ['probe', { z: 20, feed: 100 }],
    ]);
  });

  it('answers a set-output for an output the device does not offer with unknown-output, naming those it offers', async () => {
    const machine = new ScriptedMachine();
    const reply = runHardwareRequest(machine, { id: 'o', replyTo: 'r', op: 'set-output', params: { output: 'heater', value: 1 } });
    machine.fail(new UnknownOutput('heater', ['pump', 'valve']));
    expect(await reply).toEqual({ id: 'o', ok: false, code: 'unknown-output', message: 'there is no output "heater" on this device: its outputs are pump, valve' });
  });

  it('reads a set-output request, and refuses one whose value is not from 0 to 1', () => {
    expect(readHardwareRequest(bytes({ id: 'o', replyTo: 'r/1', op: 'set-output', params: { output: 'pump', value: 0.5 } }))).toMatchObject({ ok: true });
    const read = readHardwareRequest(bytes({ id: 'o', replyTo: 'r/1', op: 'set-output', params: { output: 'pump', value: 50 } }));
    expect(read).toMatchObject({ ok: false, reply: { code: 'bad-request', message: expect.stringContaining('value must be from 0 (off) to 1 (fully on)') } });
  });

  it('answers a probe that touched nothing with probe-no-contact', async () => {
    const machine = new ScriptedMachine();
    const probe = runHardwareRequest(machine, { id: 'p', replyTo: 'r', op: 'probe', params: { z: 20, feed: 100 } });
    machine.fail(new ProbeFailed('probe-no-contact', 'the probe touched nothing on its way to Z 20: ALARM:5 …', { code: 5, message: '…' }));
    expect(await probe).toMatchObject({ id: 'p', ok: false, code: 'probe-no-contact', message: expect.stringMatching(/^the probe touched nothing on its way to Z 20/) });
  });

  it('answers a failed operation with its code and message', async () => {
    const machine = new ScriptedMachine();
    const move = runHardwareRequest(machine, { id: 'm', replyTo: 'r', op: 'move', params: { x: 10, feed: 600 } });
    machine.fail(new MotionAborted());
    expect(await move).toEqual({ id: 'm', ok: false, code: 'aborted', message: 'motion stopped' });
    const other = runHardwareRequest(machine, { id: 'n', replyTo: 'r', op: 'move', params: { x: 1 } });
    machine.fail(new Error('no code'));
    expect(await other).toEqual({ id: 'n', ok: false, code: 'failed', message: 'no code' });
  });

  it('answers a failure that lost the position with positionLost and what to do', async () => {
    const machine = new ScriptedMachine();
    const move = runHardwareRequest(machine, { id: 'm', replyTo: 'r', op: 'move', params: { x: 10 } });
    machine.fail(new MachineAlarm({ code: 3, message: describeAlarm(3).message }));
    expect(await move).toEqual({
      id: 'm',
      ok: false,
      code: 'alarm',
      message: 'ALARM:3 Reset while in motion. Grbl cannot guarantee position. Lost steps are likely. Re-homing is highly recommended. Position lost: home the machine before moving again.',
      positionLost: true,
    });
  });
});

/** A MotionController whose operations settle when the test says. */
class ScriptedMachine implements MotionController {
  calls: unknown[][] = [];
  now: Pick<HardwareState, 'machine' | 'position'> = { machine: 'Idle', position: { x: 0, y: 0, z: 0 } };
  private pending: Array<{ resolve(state: HardwareState): void; reject(error: Error): void }> = [];

  finish(now: Pick<HardwareState, 'machine' | 'position'>) {
    this.now = now;
    this.pending.shift()?.resolve(this.state());
  }
  fail(error: Error) {
    this.pending.shift()?.reject(error);
  }
  private later(call: unknown[]): Promise<HardwareState> {
    this.calls.push(call);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  private atOnce(call: unknown[]): Promise<HardwareState> {
    this.calls.push(call);
    return Promise.resolve(this.state());
  }
  home = () => this.later(['home']);
  unlock = () => this.later(['unlock']);
  move = (target: MoveTarget) => this.later(['move', target]);
  dwell = (seconds: number) => this.later(['dwell', seconds]);
  setOutput = (output: string, value: number) => this.later(['set-output', output, value]);
  gcode = (lines: readonly string[]) => this.later(['gcode', lines]);
  probe = (target: ProbeTarget) => this.later(['probe', target]);
  hold = () => this.atOnce(['hold']);
  release = () => this.atOnce(['release']);
  stop = () => this.atOnce(['stop']);
  state = (): HardwareState => ({ connected: true, homed: true, door: 'closed', alarm: null, at: '2026-11-24T10:00:00.000Z', ...this.now });
  on() {}
  off() {}
}
