// The `set-output` command: its module (a device request, how it reads), and what step() does with the outputs a
// run set — every one it may have left on is switched off when the run ends, succeeded, stopped or failed, and
// nothing else (a pause, a hold, the end of another command) touches them.
import type { Command, ErrorRecoveryPolicy, ProtocolDocument, RunAction, RunEvent, RunEventOf } from '@labrun/contracts';
import { describe, expect, it } from 'vitest';
import { apply, createState } from '../apply.js';
import { iso } from '../fixtures.spec-helpers.js';
import type { RunState } from '../state.js';
import { step, type Effect, type Input } from '../step.js';
import { commandModule, describeCommand } from './index.js';

const protocol = (...commands: ProtocolDocument['commands']): ProtocolDocument => ({ schemaVersion: 1, metadata: { name: 'outputs' }, commands });
const pumpOn = { type: 'set-output', params: { output: 'pump', value: 0.5 } } as const;
const pumpOff = { type: 'set-output', params: { output: 'pump', value: 0 } } as const;
const valveOn = { type: 'set-output', params: { output: 'valve', value: 1 } } as const;
const move = { type: 'move', params: { x: 10, feed: 600 } } as const;
const delay = { type: 'delay', params: { seconds: 30 } } as const;

/** A run driven through step(), keeping every effect it asked for. */
class Drive {
  state: RunState;
  readonly created: RunEventOf<'run.created'>;
  effects: Effect[] = [];
  /** Every event, as the journal keeps them. */
  events: RunEvent[] = [];
  private t = 2;

  constructor(document: ProtocolDocument, errorRecovery?: ErrorRecoveryPolicy) {
    this.created = { type: 'run.created', runId: 'r-1', seq: 1, at: iso(1), deviceId: 'sim-1', protocol: document, ...(errorRecovery ? { errorRecovery } : {}) };
    this.state = createState(this.created);
  }

  input(body: Input extends infer I ? (I extends Input ? Omit<I, 'at'> : never) : never): Effect[] {
    const out = step(this.state, { ...body, at: iso(this.t++) } as Input);
    this.state = out.state;
    this.effects.push(...out.effects);
    this.events.push(...out.events);
    return out.effects;
  }

  act(action: RunAction): Effect[] {
    return this.input({ type: 'action', action, actionId: `a-${this.t}` });
  }

  /** The device request in flight for the current command. */
  get request(): Extract<Effect, { kind: 'perform' }> {
    const id = this.state.io.motion?.effectId;
    const effect = this.effects.find((e): e is Extract<Effect, { kind: 'perform' }> => e.kind === 'perform' && e.id === id);
    if (!effect) throw new Error(`no device request in flight (status ${this.state.status})`);
    return effect;
  }

  /** The device carries out the current command. */
  done(): Effect[] {
    return this.input({ type: 'result', effectId: this.request.id, ok: true });
  }

  fail(code = 'alarm', message = 'ALARM:1 Hard limit triggered'): Effect[] {
    return this.input({ type: 'result', effectId: this.request.id, ok: false, error: { code, message } });
  }
}

const switchOffs = (effects: Effect[]) => effects.flatMap((e) => (e.kind === 'perform' && e.request.op === 'set-output' && e.request.value === 0 ? [e.request.output] : []));

describe('the set-output module', () => {
  it('is a device request: set-output with the output and value, done when the device answers', () => {
    const module = commandModule('set-output');
    expect(module.kind).toBe('motion');
    expect(module.start(pumpOn)).toEqual({ kind: 'perform', request: { op: 'set-output', output: 'pump', value: 0.5 } });
    expect(module.output?.(pumpOn)).toEqual({ output: 'pump', value: 0.5 });
  });

  it('reads "Set pump to 50 %", tersely "set-output pump=0.5"', () => {
    expect(describeCommand(pumpOn)).toBe('Set pump to 50 %');
    expect(describeCommand(pumpOn, 'terse')).toBe('set-output pump=0.5');
    expect(describeCommand(pumpOff)).toBe('Set pump to 0 % (off)');
    expect(describeCommand({ type: 'set-output', params: { output: 'pump', value: 1 / 3 } })).toBe('Set pump to 33.3 %');
  });
});

describe('the outputs a run set', () => {
  it('are switched off when the run succeeds, once, and only those it left on', () => {
    const run = new Drive(protocol(pumpOn, valveOn, { type: 'set-output', params: { output: 'valve', value: 0 } }, move));
    run.act({ type: 'play' });
    expect(run.request.request).toEqual({ op: 'set-output', output: 'pump', value: 0.5 });
    run.done();
    run.done();
    run.done();
    expect(run.state.outputs).toEqual({ pump: 0.5, valve: 0 });
    expect(switchOffs(run.effects)).toEqual(['valve']); // the protocol's own, nothing else before the end
    const last = run.done();
    expect(run.state.status).toBe('succeeded');
    expect(last).toEqual([{ kind: 'perform', id: expect.any(String), deviceId: 'sim-1', request: { op: 'set-output', output: 'pump', value: 0 }, after: null }]);
    // The switch-off's answer changes nothing.
    expect(run.input({ type: 'result', effectId: last[0]!.id, ok: true })).toEqual([]);
    expect(run.state.status).toBe('succeeded');
  });

  it('include what a raw G-code block switched on: M5 and M9 when the run ends, once', () => {
    const block = (...lines: string[]): Command => ({ type: 'gcode', params: { lines } });
    const run = new Drive(protocol(block('M3 S500', 'G4 P1'), block('(flood) m08'), move));
    run.act({ type: 'play' });
    // On from the moment a block starts, whatever the device answers.
    expect(run.state.accessories).toEqual({ spindle: true, coolant: false });
    run.done();
    expect(run.state.accessories).toEqual({ spindle: true, coolant: true });
    run.done();
    const last = run.done();
    expect(run.state.status).toBe('succeeded');
    expect(last).toEqual([{ kind: 'perform', id: expect.any(String), deviceId: 'sim-1', request: { op: 'gcode', params: { lines: ['M5', 'M9'] } }, after: null }]);

    const plain = new Drive(protocol(block('G1 X10 F600', 'M5 M9'), move));
    plain.act({ type: 'play' });
    plain.done();
    expect(plain.done()).toEqual([]); // nothing switched on: nothing to switch off
  });

  it('are switched off when the run is stopped', () => {
    const run = new Drive(protocol(pumpOn, valveOn, delay, move));
    run.act({ type: 'play' });
    run.done();
    run.done();
    expect(switchOffs(run.act({ type: 'stop' })).sort()).toEqual(['pump', 'valve']);
    expect(run.state.status).toBe('stopped');
  });

  it('are switched off once a stop has interrupted the motion in flight, not before', () => {
    const run = new Drive(protocol(pumpOn, move));
    run.act({ type: 'play' });
    run.done();
    const stop = run.act({ type: 'stop' });
    expect(stop.map((e) => e.kind)).toEqual(['abort']);
    expect(run.state.status).toBe('stopping');
    expect(switchOffs(run.fail('aborted', 'motion stopped'))).toEqual(['pump']);
    expect(run.state.status).toBe('stopped');
  });

  it('are switched off when the run fails, and when it is stopped awaiting recovery', () => {
    const failing = new Drive(protocol(pumpOn, move), { default: 'fail' });
    failing.act({ type: 'play' });
    failing.done();
    expect(switchOffs(failing.fail())).toEqual(['pump']);
    expect(failing.state.status).toBe('failed');

    const waiting = new Drive(protocol(pumpOn, move));
    waiting.act({ type: 'play' });
    waiting.done();
    expect(switchOffs(waiting.fail())).toEqual([]);
    expect(waiting.state.status).toBe('awaiting-recovery');
    expect(switchOffs(waiting.act({ type: 'stop' }))).toEqual(['pump']);
  });

  it('count an attempt that failed: the device may have switched the output on before it failed', () => {
    const run = new Drive(protocol(pumpOn, move));
    run.act({ type: 'play' });
    run.fail('lost-reply', 'no answer to M3 S500');
    run.act({ type: 'skip' });
    expect(run.state.outputs).toEqual({ pump: 0.5 });
    run.done();
    expect(switchOffs(run.effects)).toEqual(['pump']);
  });

  it('are left as they are by a pause, a protocol pause and a delay', () => {
    const run = new Drive(protocol(pumpOn, delay, { type: 'pause', params: { message: 'Check the flow' } }, move));
    run.act({ type: 'play' });
    run.done();
    run.act({ type: 'pause' });
    run.act({ type: 'resume' });
    run.input({ type: 'timer', timerId: run.state.io.timer!.id });
    expect(run.state.status).toBe('running');
    run.input({ type: 'interlock', active: true, message: 'door open' });
    run.input({ type: 'interlock', active: false, message: 'door closed' });
    expect(switchOffs(run.effects)).toEqual([]);
  });

  it('are switched off after the cycle start that lets go of a device a pause left held', () => {
    const run = new Drive(protocol(pumpOn, move));
    run.act({ type: 'play' });
    run.done();
    run.act({ type: 'pause' });
    const hold = run.effects.find((e) => e.kind === 'hold')!;
    run.input({ type: 'result', effectId: hold.id, ok: true });
    run.done(); // the move ended while held: the controller stays in Hold until cycle start
    expect(run.state.status).toBe('paused');
    const end = run.act({ type: 'resume' });
    expect(run.state.status).toBe('succeeded');
    const release = end.find((e) => e.kind === 'release')!;
    expect(end.find((e) => e.kind === 'perform')).toMatchObject({ request: { op: 'set-output', output: 'pump', value: 0 }, after: release.id });
  });

  it('are known to a run rebuilt from its journal after a restart', () => {
    const run = new Drive(protocol(pumpOn, move));
    run.act({ type: 'play' });
    run.done();
    // The engine stops with the move in flight; a new one folds the journaled events and restores the run.
    let rebuilt = createState(run.created);
    for (const event of run.events) rebuilt = apply(rebuilt, event);
    expect(rebuilt.outputs).toEqual({ pump: 0.5 });
    const restored = step(rebuilt, { type: 'restored', at: iso(50) });
    expect(restored.state).toMatchObject({ status: 'paused', reasons: [{ source: 'recovery' }] });
    expect(switchOffs(restored.effects)).toEqual([]);
    const stopped = step(restored.state, { type: 'action', action: { type: 'stop' }, actionId: 'a-x', at: iso(51) });
    expect(stopped.state.status).toBe('stopped');
    expect(switchOffs(stopped.effects)).toEqual(['pump']);
  });
});
