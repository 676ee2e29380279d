// Unit tests of what the dashboard says about a run: pause reasons, the recovery panel, a command's attempts.
import { describe as group, expect, it } from 'vitest';
import type { PauseReason, RunCommand, RunStatusDocument } from '@labrun/contracts';
import { statusDocument as statusOf } from '@labrun/testkit';
import { attemptsText, describe, otherReasons, recoveryView } from './run-text.js';

const at = '2026-11-24T10:00:00.000Z';
const protocol: PauseReason = { source: 'protocol', message: 'Check the samples', since: at, by: null };
const interlock: PauseReason = { source: 'interlock', message: 'controller sim-1 reconnected', since: at, by: null };
const user: PauseReason = { source: 'user', message: 'refilling tips', since: at, by: 'ana' };

group('describe', () => {
  it('reads commands as the engine describes them in sentences', () => {
    expect(describe({ type: 'move', params: { x: 10, y: 20, feed: 600 } })).toBe('Move to X 10, Y 20 at 600 mm/min');
    expect(describe({ type: 'pause', params: { message: 'Check' } })).toBe('Pause: “Check”');
  });
});

group('otherReasons', () => {
  it('lists every reason besides the headline, oldest first, with who and the message', () => {
    expect(otherReasons({ ...interlock, reasons: [protocol, interlock, user] })).toEqual(['Also held by the protocol: Check the samples', 'Also held by ana: refilling tips']);
    expect(otherReasons({ ...protocol, reasons: [protocol] })).toEqual([]);
    expect(otherReasons(null)).toEqual([]);
  });
});

group('recoveryView', () => {
  const message = 'ALARM:9 Homing required. Home the machine, then retry.';
  const error: PauseReason = { source: 'error', message, since: at, by: null };
  const awaiting = (overrides: Partial<RunStatusDocument> = {}) =>
    statusOf('r-1', {
      status: 'awaiting-recovery',
      current: { index: 1, type: 'move', startedAt: at },
      error: { code: 'alarm', message, commandIndex: 1, attempt: 1, positionLost: true },
      pause: { ...error, reasons: [user, error] },
      recovery: { attempt: 1, needsHome: true, fixit: null },
      allowedActions: ['skip', 'home', 'unlock', 'stop'],
      ...overrides,
    });
  const commands: RunCommand[] = [
    { index: 0, command: { type: 'comment', params: { message: 'hi' } }, status: 'succeeded', startedAt: at, completedAt: at, error: null, result: null, attempts: [] },
    { index: 1, command: { type: 'move', params: { x: 10, feed: 600 } }, status: 'failed', startedAt: at, completedAt: at, error: { code: 'alarm', message }, result: null, attempts: [] },
  ];

  it('says which command failed, in the engine’s words, the controller’s message, the code and attempt, and that it needs a home', () => {
    expect(recoveryView(awaiting(), commands)).toEqual({
      title: 'Command #2 failed',
      command: 'Move to X 10 at 600 mm/min',
      message,
      facts: [
        ['Code', 'alarm'],
        ['Attempt', '1'],
      ],
      needsHome: true,
      fixit: null,
      others: ['Also held by ana: refilling tips'],
    });
    // Before the commands document arrives, the command is named by its type.
    expect(recoveryView(awaiting(), null)?.command).toBe('move');
  });

  it('says how a fixit action goes: in progress, done, failed with the controller’s words', () => {
    const fixit = (action: 'home' | 'unlock', ok: boolean | null, text: string | null) =>
      recoveryView(awaiting({ recovery: { attempt: 1, needsHome: false, fixit: { action, ok, message: text, at } } }), commands)?.fixit;
    expect(fixit('home', null, null)).toEqual({ text: 'Homing…', state: 'running' });
    expect(fixit('home', true, 'homed')).toEqual({ text: 'Home done: homed', state: 'ok' });
    expect(fixit('unlock', false, 'error:9 G-code lock')).toEqual({ text: 'Unlock failed: error:9 G-code lock', state: 'failed' });
  });

  it('has no panel for a run that does not await recovery', () => {
    expect(recoveryView(statusOf('r-1', { status: 'paused', error: null }), commands)).toBeNull();
  });
});

group('attemptsText', () => {
  const attempt = (n: number, status: 'running' | 'succeeded' | 'failed') => ({
    attempt: n,
    status,
    startedAt: at,
    completedAt: status === 'running' ? null : at,
    error: status === 'failed' ? { code: 'alarm', message: 'ALARM:1 Hard limit' } : null,
    result: null,
  });
  const entry = (status: RunCommand['status'], attempts: ReturnType<typeof attempt>[], skippedBy?: string | null): RunCommand => ({
    index: 0,
    command: { type: 'home' },
    status,
    startedAt: at,
    completedAt: at,
    error: null,
    result: null,
    attempts,
    ...(skippedBy === undefined ? {} : { skippedBy }),
  });

  it('says a command failed before it succeeded on a retry', () => {
    expect(attemptsText(entry('succeeded', [attempt(1, 'failed'), attempt(2, 'succeeded')]))).toBe('failed once, succeeded on attempt 2');
    expect(attemptsText(entry('succeeded', [attempt(1, 'failed'), attempt(2, 'failed'), attempt(3, 'succeeded')]))).toBe('failed twice, succeeded on attempt 3');
  });

  it('says who skipped a command and after how many failures', () => {
    expect(attemptsText(entry('skipped', [attempt(1, 'failed')], 'ana'))).toBe('skipped by ana after failing once');
    expect(attemptsText(entry('skipped', [attempt(1, 'failed'), attempt(2, 'failed'), attempt(3, 'failed')], null))).toBe('skipped after failing 3 times');
  });

  it('says a retry is under way, and how often a command has failed', () => {
    expect(attemptsText(entry('running', [attempt(1, 'failed'), attempt(2, 'running')]))).toBe('failed once, now attempt 2');
    expect(attemptsText(entry('failed', [attempt(1, 'failed'), attempt(2, 'failed')]))).toBe('failed twice');
  });

  it('has nothing to add for a command done at its first try, or failed once (its error says it)', () => {
    expect(attemptsText(entry('succeeded', [attempt(1, 'succeeded')]))).toBeNull();
    expect(attemptsText(entry('failed', [attempt(1, 'failed')]))).toBeNull();
    expect(attemptsText(entry('queued', []))).toBeNull();
  });
});
