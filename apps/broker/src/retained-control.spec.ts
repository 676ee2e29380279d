// Which publishes count as retained creates or actions, and the answer the broker gives to each: valid events
// of the contract (libs/contracts), seq 0, code `retained`.
import { describe, expect, it } from 'vitest';
import { RunEvent } from '@labrun/contracts';
import { isRetainedControl, retainedControlRejection } from './retained-control.js';

const AT = '2026-12-04T10:00:00.000Z';
const bytes = (text: string) => Buffer.from(text);

describe('isRetainedControl', () => {
  it('is a create or an action with the retain flag and a payload', () => {
    expect(isRetainedControl({ topic: 'run/r-1/actions', retain: true, payload: bytes('play') })).toBe(true);
    expect(isRetainedControl({ topic: 'run/r-1/create', retain: true, payload: bytes('{}') })).toBe(true);
  });

  it('is not an empty retained publish, which clears a retained message', () => {
    expect(isRetainedControl({ topic: 'run/r-1/actions', retain: true, payload: Buffer.alloc(0) })).toBe(false);
  });

  it('is not a publish without the retain flag, nor a retained status, events or another topic', () => {
    expect(isRetainedControl({ topic: 'run/r-1/actions', retain: false, payload: bytes('play') })).toBe(false);
    for (const topic of ['run/r-1/status', 'run/r-1/commands', 'run/r-1/actions/more', 'lab/run/r-1/actions', 'hw/dev/state']) {
      expect(isRetainedControl({ topic, retain: true, payload: bytes('x') }), topic).toBe(false);
    }
  });
});

describe('retainedControlRejection', () => {
  it('answers a create with a run.rejected', () => {
    const answer = retainedControlRejection('run/r-1/create', bytes('{"protocol":{}}'), AT);
    expect(answer).toEqual({
      runId: 'r-1',
      seq: 0,
      at: AT,
      type: 'run.rejected',
      code: 'retained',
      message: 'cannot create run r-1: a retained create is refused; publish it without the retain flag',
    });
    expect(RunEvent.safeParse(answer).success).toBe(true);
  });

  it("answers an action with an action.rejected naming the action's id and type", () => {
    const answer = retainedControlRejection('run/r-1/actions', bytes('{"type":"play","id":"a-7","by":"ana"}'), AT);
    expect(answer).toEqual({
      runId: 'r-1',
      seq: 0,
      at: AT,
      type: 'action.rejected',
      actionId: 'a-7',
      action: 'play',
      code: 'retained',
      message: 'cannot act on run r-1: a retained action is refused; publish it without the retain flag',
    });
    expect(RunEvent.safeParse(answer).success).toBe(true);
  });

  it('reads a bare action word, and makes up an id when the action has none', () => {
    expect(retainedControlRejection('run/r-1/actions', bytes('resume'), AT, () => 'made-up')).toMatchObject({ action: 'resume', actionId: 'made-up' });
  });

  it('keeps what it can read of an invalid action: its id and type, or null for the type', () => {
    expect(retainedControlRejection('run/r-1/actions', bytes('{"type":"dance","id":"a-8"}'), AT)).toMatchObject({ action: 'dance', actionId: 'a-8' });
    const garbage = retainedControlRejection('run/r-1/actions', bytes('\u0000not json'), AT, () => 'made-up');
    expect(garbage).toMatchObject({ action: null, actionId: 'made-up' });
    expect(RunEvent.safeParse(garbage).success).toBe(true);
  });

  it('gives no answer when the topic names no valid run: there is no events topic to answer on', () => {
    expect(retainedControlRejection('run//actions', bytes('play'), AT)).toBeUndefined();
    expect(retainedControlRejection('run/$bad/create', bytes('{}'), AT)).toBeUndefined();
  });
});
