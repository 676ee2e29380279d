// Every status × every action through step(): what a run accepts, what it refuses and why, and that
// allowedActions lists exactly the accepted ones. Then what step() produces for the actions that do something.
import { ACTION_TYPES, type ActionType, type RunAction, type RunEvent } from '@labrun/contracts';
import { describe, expect, it } from 'vitest';
import { allowedActions } from './decide.js';
import { accepted, failed, failedWaiting, given, iso, started, succeeded } from './fixtures.spec-helpers.js';
import type { RunState } from './state.js';
import { step } from './step.js';

type Decision = { accepted: true; events: RunEvent[] } | { accepted: false; code: string; message: string } | { accepted: 'duplicate'; answer: RunEvent };

/** What step() makes of an action: the events it accepts it with, its refusal, or the earlier answer to its id. */
function decide(state: RunState, action: RunAction, actionId: string): Decision {
  const out = step(state, { type: 'action', action, actionId, at: iso(100) });
  if (out.replies.length > 0) return { accepted: 'duplicate', answer: out.replies[0]! };
  const rejected = out.events.find((e) => e.type === 'action.rejected');
  if (rejected?.type === 'action.rejected') return { accepted: false, code: rejected.code, message: rejected.message };
  // The action's own events: what reconcile() goes on to do (start the next command...) is not its answer.
  return { accepted: true, events: out.events.slice(0, 2) };
}

const awaiting = [accepted('play'), started(0), failedWaiting(0)];
const states: Record<string, () => RunState> = {
  idle: () => given([]),
  'running (between commands)': () => given([accepted('play')]),
  'running (moving)': () => given([accepted('play'), started(0)]),
  'running (in a delay)': () => given([accepted('play'), started(0), succeeded(0), started(1), succeeded(1), started(2), accepted('resume'), succeeded(2), started(3)]),
  pausing: () => given([accepted('play'), started(0), accepted('pause')]),
  'paused (by the protocol)': () => given([accepted('play'), started(0), succeeded(0), started(1), succeeded(1), started(2)]),
  'paused (by a user, in a delay)': () => given([accepted('play'), started(0), succeeded(0), started(1), succeeded(1), started(2), accepted('resume'), succeeded(2), started(3), accepted('pause')]),
  blocked: () => given([accepted('play'), started(0), { type: 'interlock.changed', active: true, message: 'door open' }]),
  'awaiting recovery': () => given(awaiting),
  'awaiting recovery (position lost)': () => given([accepted('play'), started(0), failedWaiting(0, { positionLost: true })]),
  'awaiting recovery (homing)': () => given([...awaiting, accepted('home')]),
  'awaiting recovery (homed)': () => given([...awaiting, accepted('home'), { type: 'fixit.completed', action: 'home', ok: true, code: null, message: 'homed' }]),
  'awaiting recovery (interlock)': () => given([...awaiting, { type: 'interlock.changed', active: true, message: 'door open' }]),
  stopping: () => given([accepted('play'), started(0), accepted('stop')]),
  stopped: () => given([accepted('stop')]),
  succeeded: () => given([accepted('play'), ...[0, 1].flatMap((i) => [started(i), succeeded(i)]), started(2), accepted('resume'), succeeded(2), started(3), succeeded(3), started(4), succeeded(4)]),
  failed: () => given([accepted('play'), started(0), failed(0)]),
};

// The expected answer for each action, in ACTION_TYPES order — play, pause, resume, stop, skip-delay, retry, skip,
// home, unlock: 'ok' or the rejection code.
const N = 'not-awaiting-recovery';
const A = 'awaiting-recovery';
const expected: Record<string, string[]> = {
  idle: ['ok', 'not-started', 'not-started', 'ok', 'no-delay', N, N, N, N],
  'running (between commands)': ['already-running', 'ok', 'not-paused', 'ok', 'no-delay', N, N, N, N],
  'running (moving)': ['already-running', 'ok', 'not-paused', 'ok', 'no-delay', N, N, N, N],
  'running (in a delay)': ['already-running', 'ok', 'not-paused', 'ok', 'ok', N, N, N, N],
  pausing: ['not-paused', 'already-paused', 'not-paused', 'ok', 'no-delay', N, N, N, N],
  'paused (by the protocol)': ['ok', 'already-paused', 'ok', 'ok', 'no-delay', N, N, N, N],
  'paused (by a user, in a delay)': ['ok', 'already-paused', 'ok', 'ok', 'ok', N, N, N, N],
  blocked: ['interlock-active', 'already-paused', 'interlock-active', 'ok', 'interlock-active', N, N, N, N],
  'awaiting recovery': [A, A, A, 'ok', A, 'ok', 'ok', 'ok', 'ok'],
  'awaiting recovery (position lost)': [A, A, A, 'ok', A, 'needs-home', 'ok', 'ok', 'ok'],
  'awaiting recovery (homing)': [A, A, A, 'ok', A, 'fixit-in-progress', 'fixit-in-progress', 'fixit-in-progress', 'fixit-in-progress'],
  'awaiting recovery (homed)': [A, A, A, 'ok', A, 'ok', 'ok', 'ok', 'ok'],
  'awaiting recovery (interlock)': [A, A, A, 'ok', A, 'interlock-active', 'ok', 'interlock-active', 'interlock-active'],
  stopping: Array(9).fill('stopping'),
  stopped: Array(9).fill('run-finished'),
  succeeded: Array(9).fill('run-finished'),
  failed: Array(9).fill('run-finished'),
};

const statusOf = (name: string) => name.replace(/ \(.*\)$/, '').replace('awaiting recovery', 'awaiting-recovery');

describe('step: every status × every action', () => {
  it('covers every status and every action of the contract', () => {
    expect(new Set(Object.keys(states).map(statusOf))).toEqual(new Set(['idle', 'running', 'pausing', 'paused', 'blocked', 'awaiting-recovery', 'stopping', 'stopped', 'succeeded', 'failed']));
    expect(ACTION_TYPES).toEqual(['play', 'pause', 'resume', 'stop', 'skip-delay', 'retry', 'skip', 'home', 'unlock']);
  });

  for (const [name, build] of Object.entries(states)) {
    describe(name, () => {
      it(`is in status ${statusOf(name)}`, () => {
        expect(build().status).toBe(statusOf(name));
      });

      ACTION_TYPES.forEach((type: ActionType, i) => {
        const want = expected[name]![i]!;
        it(want === 'ok' ? `accepts ${type}` : `rejects ${type} with ${want}`, () => {
          const decision = decide(build(), { type }, 'x-1');
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

describe('step: answers to actions', () => {
  it('says why a resume is refused while running', () => {
    expect(decide(states['running (moving)']!(), { type: 'resume' }, 'x')).toEqual({ accepted: false, code: 'not-paused', message: 'cannot resume run r-42: it is running, not paused' });
  });

  it('names the interlock when it refuses a resume', () => {
    expect(decide(states.blocked!(), { type: 'resume' }, 'x')).toMatchObject({ message: 'cannot resume run r-42: the interlock is active (door open)' });
  });

  it('says what to do when a retry needs homing first', () => {
    expect(decide(states['awaiting recovery (position lost)']!(), { type: 'retry' }, 'x')).toMatchObject({
      code: 'needs-home',
      message: 'cannot retry run r-42: the controller lost its position when command 1 (home) failed: home the machine first (action home), then retry',
    });
  });

  it('answers an action id already seen with its first answer, without applying it again', () => {
    const paused = states['paused (by the protocol)']!();
    const first = step(paused, { type: 'action', action: { type: 'resume', id: 'a-7' }, actionId: 'a-7', at: iso(100) });
    expect(first.events.map((e) => e.type)).toEqual(['action.accepted', 'command.succeeded', 'command.started']);
    const again = step(first.state, { type: 'action', action: { type: 'resume', id: 'a-7' }, actionId: 'a-7', at: iso(101) });
    expect(again.events).toEqual([]);
    expect(again.replies).toMatchObject([{ type: 'action.accepted', actionId: 'a-7', action: 'resume', seq: first.events[0]!.seq }]);
    expect(again.state).toBe(first.state);
  });

  it('completes the protocol pause command when resumed', () => {
    expect(decide(states['paused (by the protocol)']!(), { type: 'resume' }, 'x')).toMatchObject({ accepted: true, events: [{ type: 'action.accepted' }, { type: 'command.succeeded', index: 2 }] });
  });

  it('fails the pause command with "run stopped" on stop', () => {
    expect(decide(states['paused (by the protocol)']!(), { type: 'stop' }, 'x')).toMatchObject({
      accepted: true,
      events: [{ type: 'action.accepted' }, { type: 'command.failed', index: 2, message: 'run stopped' }],
    });
  });

  it('ends the delay on skip-delay', () => {
    expect(decide(states['running (in a delay)']!(), { type: 'skip-delay' }, 'x')).toMatchObject({ accepted: true, events: [{ type: 'action.accepted' }, { type: 'command.succeeded', index: 3 }] });
  });
});
