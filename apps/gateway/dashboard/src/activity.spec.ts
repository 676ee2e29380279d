// Unit tests of the activity panel's entries: live events in words, and a run's history from its commands document.
import { describe, expect, it } from 'vitest';
import type { RunCommandsDocument, RunEvent } from '@labrun/contracts';
import { statusDocument as statusOf } from '@labrun/testkit';
import { activityKey, attemptsOf, describeEvent, historyOf, isTrouble } from './activity.js';

const base = { runId: 'r-1', seq: 5, at: '2026-11-24T10:00:05.000Z' };

describe('describeEvent and activityKey', () => {
  it('tells each attempt of a command apart, so a retry’s start is not taken for the first one', () => {
    const first: RunEvent = { ...base, type: 'command.started', index: 1, attempt: 1, commandType: 'move' };
    const retry: RunEvent = { ...base, type: 'command.started', index: 1, attempt: 2, commandType: 'move' };
    expect([describeEvent(first), describeEvent(retry)]).toEqual(['#2 move started', '#2 move started (attempt 2)']);
    expect(activityKey(first)).not.toBe(activityKey(retry));
    // Journals from before retries have no attempt: the first.
    expect(activityKey({ ...base, type: 'command.started', index: 1, commandType: 'move' })).toBe(activityKey(first));
  });

  it('says a command failed with the controller’s words, was skipped and by whom, and how a fixit action went', () => {
    const failed: RunEvent = { ...base, type: 'command.failed', index: 1, attempt: 1, code: 'alarm', message: 'ALARM:9 Homing required', recovery: 'wait' };
    const skipped: RunEvent = { ...base, type: 'command.skipped', index: 1, attempt: 1, by: 'ana', message: 'skipped by ana' };
    const homed: RunEvent = { ...base, type: 'fixit.completed', action: 'home', ok: true, code: null, message: 'homed' };
    const unlockFailed: RunEvent = { ...base, type: 'fixit.completed', action: 'unlock', ok: false, code: 'grbl-error', message: 'error:9 G-code lock' };
    expect([failed, skipped, homed, unlockFailed].map(describeEvent)).toEqual(['#2 failed: ALARM:9 Homing required', '#2 skipped by ana', 'home done: homed', 'unlock failed: error:9 G-code lock']);
    expect([failed, skipped, homed, unlockFailed].map(isTrouble)).toEqual([true, false, false, true]);
  });
});

describe('historyOf', () => {
  it('shows every attempt of a command and a skip, keyed as the live events are', () => {
    const t = (s: number) => `2026-11-24T10:00:0${s}.000Z`;
    const document: RunCommandsDocument = {
      runId: 'r-1',
      seq: 9,
      commands: [
        {
          index: 0,
          command: { type: 'move', params: { x: 10 } },
          status: 'succeeded',
          startedAt: t(1),
          completedAt: t(4),
          error: null,
          result: { position: { x: 10, y: 0, z: 0 } },
          attempts: [
            { attempt: 1, status: 'failed', startedAt: t(1), completedAt: t(2), error: { code: 'alarm', message: 'ALARM:9 Homing required' }, result: null },
            { attempt: 2, status: 'succeeded', startedAt: t(3), completedAt: t(4), error: null, result: null },
          ],
        },
        {
          index: 1,
          command: { type: 'home' },
          status: 'skipped',
          startedAt: t(5),
          completedAt: t(7),
          error: { code: 'alarm', message: 'ALARM:6 Homing fail' },
          result: null,
          attempts: [{ attempt: 1, status: 'failed', startedAt: t(5), completedAt: t(6), error: { code: 'alarm', message: 'ALARM:6 Homing fail' }, result: null }],
          skippedBy: 'ana',
        },
      ],
    };
    const history = historyOf(statusOf('r-1', { status: 'succeeded', completedAt: t(8) }), document);
    expect(history.map((e) => [e.key, e.text])).toEqual([
      ['run.created', 'created on sim-1'],
      ['command.started:0:1', '#1 move started'],
      ['command.failed:0:1', '#1 failed: ALARM:9 Homing required'],
      ['command.started:0:2', '#1 move started (attempt 2)'],
      ['command.succeeded:0:2', '#1 done (attempt 2)'],
      ['command.started:1:1', '#2 home started'],
      ['command.failed:1:1', '#2 failed: ALARM:6 Homing fail'],
      ['command.skipped:1', '#2 skipped by ana'],
      ['run.ended', 'run succeeded'],
    ]);
    expect(activityKey({ runId: 'r-1', seq: 3, at: t(3), type: 'command.started', index: 0, attempt: 2, commandType: 'move' })).toBe('command.started:0:2');
  });
});

describe('attemptsOf', () => {
  it('reads a command tried once (no attempts list) as its one attempt, and a queued one as none', () => {
    const t = '2026-11-24T10:00:05.000Z';
    const once = { index: 0, command: { type: 'home' as const }, status: 'succeeded' as const, startedAt: t, completedAt: t, error: null, result: { position: { x: 0, y: 0, z: 0 } } };
    expect(attemptsOf(once)).toEqual([{ attempt: 1, status: 'succeeded', startedAt: t, completedAt: t, error: null, result: { position: { x: 0, y: 0, z: 0 } } }]);
    expect(attemptsOf({ ...once, status: 'running', completedAt: null, result: undefined })).toMatchObject([{ attempt: 1, status: 'running', result: null }]);
    expect(attemptsOf({ ...once, status: 'queued', startedAt: null, completedAt: null })).toEqual([]);
    const listed = [{ attempt: 1, status: 'failed' as const, startedAt: t, completedAt: t, error: { code: 'alarm', message: 'x' }, result: null }];
    expect(attemptsOf({ ...once, status: 'skipped', attempts: listed })).toBe(listed);
  });
});
