// Every status × every action: what the run model accepts, what it refuses and why, and that
// allowedActions lists exactly the accepted ones.
import { ACTION_TYPES, type ActionType } from '@labrun/contracts';
import { describe, expect, it } from 'vitest';
import { allowedActions, decide } from './decide.js';
import { accepted, failed, given, started, succeeded } from './fixtures.spec-helpers.js';
import type { RunState } from './state.js';

const states: Record<string, () => RunState> = {
  idle: () => given([]),
  'running (between commands)': () => given([accepted('play')]),
  'running (moving)': () => given([accepted('play'), started(0)]),
  'running (in a delay)': () => given([accepted('play'), started(0), succeeded(0), started(1), succeeded(1), started(2), accepted('resume'), succeeded(2), started(3)]),
  pausing: () => given([accepted('play'), started(0), accepted('pause')]),
  'paused (by the protocol)': () => given([accepted('play'), started(0), succeeded(0), started(1), succeeded(1), started(2)]),
  'paused (by a user, in a delay)': () => given([accepted('play'), started(0), succeeded(0), started(1), succeeded(1), started(2), accepted('resume'), succeeded(2), started(3), accepted('pause')]),
  blocked: () => given([accepted('play'), started(0), { type: 'interlock.changed', active: true, message: 'door open' }]),
  stopping: () => given([accepted('play'), started(0), accepted('stop')]),
  stopped: () => given([accepted('stop')]),
  succeeded: () => given([accepted('play'), ...[0, 1].flatMap((i) => [started(i), succeeded(i)]), started(2), accepted('resume'), succeeded(2), started(3), succeeded(3), started(4), succeeded(4)]),
  failed: () => given([accepted('play'), started(0), failed(0)]),
};

// The expected answer for each action, in the order play, pause, resume, stop, skip-delay: 'ok' or the rejection code.
const expected: Record<string, [string, string, string, string, string]> = {
  idle: ['ok', 'not-started', 'not-started', 'ok', 'no-delay'],
  'running (between commands)': ['already-running', 'ok', 'not-paused', 'ok', 'no-delay'],
  'running (moving)': ['already-running', 'ok', 'not-paused', 'ok', 'no-delay'],
  'running (in a delay)': ['already-running', 'ok', 'not-paused', 'ok', 'ok'],
  pausing: ['not-paused', 'already-paused', 'not-paused', 'ok', 'no-delay'],
  'paused (by the protocol)': ['ok', 'already-paused', 'ok', 'ok', 'no-delay'],
  'paused (by a user, in a delay)': ['ok', 'already-paused', 'ok', 'ok', 'ok'],
  blocked: ['interlock-active', 'already-paused', 'interlock-active', 'ok', 'interlock-active'],
  stopping: ['stopping', 'stopping', 'stopping', 'stopping', 'stopping'],
  stopped: ['run-finished', 'run-finished', 'run-finished', 'run-finished', 'run-finished'],
  succeeded: ['run-finished', 'run-finished', 'run-finished', 'run-finished', 'run-finished'],
  failed: ['run-finished', 'run-finished', 'run-finished', 'run-finished', 'run-finished'],
};

const statusOf: Record<string, string> = {
  idle: 'idle',
  'running (between commands)': 'running',
  'running (moving)': 'running',
  'running (in a delay)': 'running',
  pausing: 'pausing',
  'paused (by the protocol)': 'paused',
  'paused (by a user, in a delay)': 'paused',
  blocked: 'blocked',
  stopping: 'stopping',
  stopped: 'stopped',
  succeeded: 'succeeded',
  failed: 'failed',
};

describe('decide: every status × every action', () => {
  it('covers every status of the contract', () => {
    expect(new Set(Object.values(statusOf))).toEqual(new Set(['idle', 'running', 'pausing', 'paused', 'blocked', 'stopping', 'stopped', 'succeeded', 'failed']));
  });

  for (const [name, build] of Object.entries(states)) {
    describe(name, () => {
      it(`is in status ${statusOf[name]}`, () => {
        expect(build().status).toBe(statusOf[name]);
      });

      ACTION_TYPES.forEach((type: ActionType, i) => {
        const want = expected[name]![i]!;
        it(want === 'ok' ? `accepts ${type}` : `rejects ${type} with ${want}`, () => {
          const state = build();
          const decision = decide(state, { type }, 'x-1');
          if (want === 'ok') {
            expect(decision.accepted).toBe(true);
          } else {
            expect(decision).toMatchObject({ accepted: false, code: want });
            if (decision.accepted === false) expect(decision.message).toMatch(new RegExp(`^cannot ${type} run r-42: `));
          }
        });
      });

      it('lists exactly the accepted actions as allowed', () => {
        const want = ACTION_TYPES.filter((_, i) => expected[name]![i] === 'ok');
        expect(allowedActions(build())).toEqual(want);
      });
    });
  }
});

describe('decide: answers', () => {
  it('says why a resume is refused while running', () => {
    expect(decide(states['running (moving)']!(), { type: 'resume' }, 'x')).toEqual({
      accepted: false,
      code: 'not-paused',
      message: 'cannot resume run r-42: it is running, not paused',
    });
  });

  it('names the interlock when it refuses a resume', () => {
    expect(decide(states.blocked!(), { type: 'resume' }, 'x')).toMatchObject({ message: 'cannot resume run r-42: the interlock is active (door open)' });
  });

  it('answers an action id already seen with its first answer, without applying it again', () => {
    const paused = states['paused (by the protocol)']!();
    const first = decide(paused, { type: 'resume', id: 'a-7' }, 'a-7');
    expect(first.accepted).toBe(true);
    if (first.accepted !== true) return;
    const after = given(first.events, paused);
    const again = decide(after, { type: 'resume', id: 'a-7' }, 'a-7');
    expect(again).toMatchObject({ accepted: 'duplicate', answer: { type: 'action.accepted', actionId: 'a-7', action: 'resume' } });
  });

  it('completes the protocol pause command when resumed', () => {
    const decision = decide(states['paused (by the protocol)']!(), { type: 'resume' }, 'x');
    expect(decision).toMatchObject({ accepted: true, events: [{ type: 'action.accepted' }, { type: 'command.succeeded', index: 2 }] });
  });

  it('fails the pause command with "run stopped" on stop', () => {
    const decision = decide(states['paused (by the protocol)']!(), { type: 'stop' }, 'x');
    expect(decision).toMatchObject({ accepted: true, events: [{ type: 'action.accepted' }, { type: 'command.failed', index: 2, message: 'run stopped' }] });
  });

  it('ends the delay on skip-delay', () => {
    const decision = decide(states['running (in a delay)']!(), { type: 'skip-delay' }, 'x');
    expect(decision).toMatchObject({ accepted: true, events: [{ type: 'action.accepted' }, { type: 'command.succeeded', index: 3 }] });
  });
});
