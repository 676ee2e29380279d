// How the gateway matches an action to the event that answers it, for labrun_action_response_seconds.
import { describe, expect, it } from 'vitest';
import type { RunEventOf } from '@labrun/contracts';
import { ActionTimer } from './action-timing.js';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const base = { seq: 5, at: '2026-11-24T10:00:00.000Z' };
const accepted = (runId: string, actionId: string, action: RunEventOf<'action.accepted'>['action']): RunEventOf<'action.accepted'> => ({
  ...base,
  runId,
  type: 'action.accepted',
  actionId,
  action,
  by: null,
  message: null,
  mode: null,
});
const rejected = (runId: string, actionId: string, action: string | null, code = 'not-paused'): RunEventOf<'action.rejected'> => ({
  ...base,
  runId,
  type: 'action.rejected',
  actionId,
  action,
  code,
  message: 'no',
});

describe('ActionTimer', () => {
  it('matches an action with an id to the answer carrying that id, whatever else is in flight', () => {
    const timer = new ActionTimer();
    timer.seen('r-1', bytes({ type: 'resume', id: 'a-1' }), 1000);
    timer.seen('r-1', bytes({ type: 'resume', id: 'a-2' }), 1002);
    expect(timer.answered(accepted('r-1', 'a-2', 'resume'), 1010)).toBe(0.008);
    expect(timer.answered(rejected('r-1', 'a-1', 'resume'), 1020)).toBe(0.02);
    expect(timer.pending).toBe(0);
  });

  it('matches a bare word (the engine makes up its id) to the first answer of that type on that run, oldest first', () => {
    const timer = new ActionTimer();
    timer.seen('r-1', bytes('pause'), 1000);
    timer.seen('r-1', bytes(' resume\n'), 1001);
    timer.seen('r-1', bytes('resume'), 1005);
    timer.seen('r-2', bytes('resume'), 1006);
    expect(timer.answered(accepted('r-1', 'engine-made-1', 'resume'), 1011)).toBe(0.01);
    expect(timer.answered(rejected('r-1', 'engine-made-2', 'resume'), 1012)).toBe(0.007);
    expect(timer.answered(accepted('r-1', 'engine-made-3', 'pause'), 1013)).toBe(0.013);
    // No resume of r-1 left: an answer with nothing to match is not timed.
    expect(timer.answered(accepted('r-1', 'engine-made-4', 'resume'), 1014)).toBeNull();
    expect(timer.pending).toBe(1);
  });

  it('labels a payload the engine cannot read as it will (action null: invalid), keeping its id when it has one', () => {
    const timer = new ActionTimer();
    timer.seen('r-1', bytes('fly'), 1000);
    timer.seen('r-1', bytes({ type: 'resume', mode: 'deferred', id: 'bad-1' }), 1001);
    expect(timer.answered(rejected('r-1', 'bad-1', null, 'invalid-action'), 1003)).toBe(0.002);
    expect(timer.answered(rejected('r-1', 'made-up', null, 'invalid-action'), 1004)).toBe(0.004);
  });

  it('answers an id sent twice twice (the engine answers a repeated id again)', () => {
    const timer = new ActionTimer();
    timer.seen('r-1', bytes({ type: 'stop', id: 's-1' }), 1000);
    timer.seen('r-1', bytes({ type: 'stop', id: 's-1' }), 1100);
    expect(timer.answered(accepted('r-1', 's-1', 'stop'), 1001)).toBe(0.001);
    expect(timer.answered(accepted('r-1', 's-1', 'stop'), 1101)).toBe(0.001);
    expect(timer.answered(accepted('r-1', 's-1', 'stop'), 1102)).toBeNull();
  });

  it('lets go of actions nobody answered within the window, and of the oldest beyond its bound', () => {
    const timer = new ActionTimer(60_000, 3);
    timer.seen('r-1', bytes('resume'), 0);
    timer.seen('r-1', bytes({ type: 'pause', id: 'p' }), 30_000);
    expect(timer.expire(60_000)).toBe(1);
    expect(timer.answered(accepted('r-1', 'x', 'resume'), 60_001)).toBeNull();
    timer.seen('r-2', bytes('resume'), 60_002);
    timer.seen('r-3', bytes('resume'), 60_003);
    expect(timer.seen('r-4', bytes('resume'), 60_004)).toBe(1); // the pause of 30 s ago made room
    expect(timer.answered(accepted('r-1', 'p', 'pause'), 60_005)).toBeNull();
    expect(timer.pending).toBe(3);
    expect(timer.answered(accepted('r-4', 'y', 'resume'), 60_014)).toBe(0.01);
  });
});
