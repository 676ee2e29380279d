// The runs as the gateway's metrics count them: by status, and how long they wait (paused, blocked, awaiting recovery).
import { describe, expect, it } from 'vitest';
import { statusDocument } from '@labrun/testkit';
import { RunTally } from './run-tally.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, seconds)).toISOString();
const ms = (seconds: number) => Date.parse(at(seconds));
const pause = (since: string) => ({ source: 'protocol' as const, message: 'Check the samples', since, by: null, reasons: [] });

describe('RunTally', () => {
  it('counts the runs in each status, every status present, following each change and removal', () => {
    const tally = new RunTally();
    tally.update(statusDocument('r-1'));
    tally.update(statusDocument('r-2'));
    tally.update(statusDocument('r-2', { status: 'running', updatedAt: at(1) }));
    tally.update(statusDocument('r-3', { status: 'paused', updatedAt: at(2) }));
    expect(tally.countByStatus()).toEqual({ idle: 1, running: 1, pausing: 0, paused: 1, blocked: 0, 'awaiting-recovery': 0, stopping: 0, stopped: 0, succeeded: 0, failed: 0 });
    tally.remove('r-1');
    tally.update(statusDocument('r-3', { status: 'succeeded', updatedAt: at(3) }));
    expect(tally.countByStatus()).toMatchObject({ idle: 0, running: 1, paused: 0, succeeded: 1 });
  });

  it('adds the time of a wait when it ends, paused → blocked → paused being one wait; pausing is not waiting', () => {
    const tally = new RunTally();
    tally.update(statusDocument('r-1', { status: 'running', updatedAt: at(0) }));
    tally.update(statusDocument('r-1', { status: 'pausing', updatedAt: at(1) }));
    tally.update(statusDocument('r-1', { status: 'paused', updatedAt: at(3), pause: pause(at(3)) }));
    tally.update(statusDocument('r-1', { status: 'blocked', updatedAt: at(5) }));
    tally.update(statusDocument('r-1', { status: 'paused', updatedAt: at(8) }));
    expect(tally.heldSeconds).toBe(0);
    expect(tally.longestHold(ms(10))).toBe(7);
    tally.update(statusDocument('r-1', { status: 'running', updatedAt: at(13) }));
    expect(tally.heldSeconds).toBe(10);
    expect(tally.longestHold(ms(20))).toBe(0);
    tally.update(statusDocument('r-1', { status: 'awaiting-recovery', updatedAt: at(20) }));
    tally.update(statusDocument('r-1', { status: 'failed', updatedAt: at(24) }));
    expect(tally.heldSeconds).toBe(14);
  });

  it('gives the longest wait going on now, whichever run it is', () => {
    const tally = new RunTally();
    tally.update(statusDocument('r-1', { status: 'running', updatedAt: at(0) }));
    tally.update(statusDocument('r-2', { status: 'running', updatedAt: at(0) }));
    tally.update(statusDocument('r-2', { status: 'awaiting-recovery', updatedAt: at(4) }));
    tally.update(statusDocument('r-1', { status: 'paused', updatedAt: at(6) }));
    expect(tally.longestHold(ms(10))).toBe(6);
    tally.update(statusDocument('r-2', { status: 'running', updatedAt: at(11) }));
    expect(tally.longestHold(ms(12))).toBe(6);
  });

  it('counts a run it finds already waiting from its pause’s since, when that is earlier than the last change', () => {
    const tally = new RunTally();
    tally.update(statusDocument('r-1', { status: 'paused', updatedAt: at(30), pause: pause(at(10)) }));
    expect(tally.longestHold(ms(40))).toBe(30);
    tally.update(statusDocument('r-2', { status: 'blocked', updatedAt: at(35), pause: null }));
    tally.update(statusDocument('r-1', { status: 'running', updatedAt: at(50) }));
    expect(tally.heldSeconds).toBe(40);
    expect(tally.longestHold(ms(40))).toBe(5);
  });

  it('never goes below zero when the clocks disagree', () => {
    const tally = new RunTally();
    tally.update(statusDocument('r-1', { status: 'paused', updatedAt: at(30) }));
    expect(tally.longestHold(ms(20))).toBe(0);
  });
});
