// Unit tests of how the CLI describes runs to people.
import { describe, expect, it } from 'vitest';
import type { Command, PauseInfo, PauseReason, RunStatusDocument } from '@labrun/contracts';
import { describeTerse, formatOtherReasons, formatPause, formatRecovery, formatRunTable, formatStatus, formatStatusLine, isBetweenCommands } from './format.js';
import { statusDocument as statusOf } from '@labrun/testkit';

const commands: Command[] = [
  { type: 'home' },
  { type: 'move', params: { x: 10, y: 20, feed: 3000 } },
  { type: 'pause', params: { message: 'Check the samples' } },
  { type: 'delay', params: { seconds: 30, message: 'Incubate' } },
  { type: 'comment', params: { message: 'Done' } },
];

describe('describeTerse', () => {
  it('says each command as the engine describes it for a terminal', () => {
    expect(commands.map(describeTerse)).toEqual(['home', 'move x=10 y=20 F3000', 'pause "Check the samples"', 'delay 30 s "Incubate"', 'comment "Done"']);
    expect(describeTerse({ type: 'pause' })).toBe('pause');
    expect(describeTerse({ type: 'delay', params: { seconds: 1.5 } })).toBe('delay 1.5 s');
  });
});

describe('formatStatusLine', () => {
  const running: RunStatusDocument = statusOf('r-42', { status: 'running', current: { index: 1, type: 'move', startedAt: '2026-11-24T10:00:00.000Z' }, progress: { completed: 1, total: 5 } });

  it('gives the run, its status, its progress and its current command', () => {
    expect(formatStatusLine(running, commands)).toBe('r-42  running  1/5  #2 move x=10 y=20 F3000');
    expect(formatStatusLine(running)).toBe('r-42  running  1/5  #2 move');
  });

  it('shows the time left in a delay, and says when its countdown is frozen', () => {
    const delay = { index: 3, seconds: 30, message: 'Incubate', remainingSeconds: 12.25, endsAt: '2026-11-24T10:00:12.250Z' };
    const inDelay = { ...running, current: { index: 3, type: 'delay' as const, startedAt: '2026-11-24T10:00:00.000Z' }, delay };
    expect(formatStatusLine(inDelay, commands)).toBe('r-42  running  1/5  #4 delay 30 s "Incubate"  (12.3 s left)');
    expect(formatStatusLine({ ...inDelay, status: 'paused', delay: { ...delay, endsAt: null } })).toContain('(12.3 s left, countdown frozen)');
  });

  it('ends a failed run with its error', () => {
    const failed = statusOf('r-42', { status: 'failed', error: { code: 'alarm', message: 'hard limit on x', commandIndex: 1 } });
    expect(formatStatusLine(failed)).toBe('r-42  failed  0/3  error: hard limit on x');
  });
});

/** A pause whose only reason is its headline. */
const pauseOf = (reason: PauseReason): PauseInfo => ({ ...reason, reasons: [reason] });
const since = '2026-11-24T10:00:00.000Z';

describe('formatPause', () => {
  it('says what paused the run, who, and its message', () => {
    expect(formatPause(statusOf('r-1', { status: 'paused', pause: pauseOf({ source: 'protocol', message: 'Check the samples', since, by: null }) }))).toBe(
      'paused (source: protocol): Check the samples',
    );
    expect(formatPause(statusOf('r-1', { status: 'pausing', pause: pauseOf({ source: 'user', message: null, since: null, by: 'ana' }) }))).toBe('pausing (source: user, by ana)');
    expect(formatPause(statusOf('r-1', { status: 'blocked', pause: pauseOf({ source: 'interlock', message: 'door open', since, by: null }) }))).toBe('blocked (source: interlock): door open');
  });

  it('lists every other reason the run waits for below the headline, the protocol’s message kept', () => {
    const protocol: PauseReason = { source: 'protocol', message: 'Check the samples', since, by: null };
    const interlock: PauseReason = { source: 'interlock', message: 'controller sim-1 reconnected: resume when ready', since, by: null };
    const user: PauseReason = { source: 'user', message: 'refilling tips', since, by: 'ana' };
    const paused = statusOf('r-1', { status: 'paused', pause: { ...interlock, reasons: [protocol, interlock, user] } });
    expect(formatOtherReasons(paused)).toEqual(['also held (source: protocol): Check the samples', 'also held (source: user, by ana): refilling tips']);
    expect(formatStatus(paused)).toEqual([
      'r-1  paused  0/3',
      '  paused (source: interlock): controller sim-1 reconnected: resume when ready',
      '  also held (source: protocol): Check the samples',
      '  also held (source: user, by ana): refilling tips',
    ]);
    expect(formatOtherReasons(statusOf('r-1', { status: 'paused', pause: pauseOf(protocol) }))).toEqual([]);
  });

  it('has nothing to say of a run that is not held', () => {
    expect(formatPause(statusOf('r-1', { status: 'running' }))).toBeNull();
    expect(formatStatus(statusOf('r-1'))).toEqual(['r-1  idle  0/3']);
  });
});

describe('formatRecovery', () => {
  const error = 'ALARM:9 Homing required: the controller is locked until it is homed. Home the machine, then retry.';
  const awaiting = (overrides: Partial<RunStatusDocument> = {}) =>
    statusOf('r-42', {
      status: 'awaiting-recovery',
      current: { index: 1, type: 'move', startedAt: since },
      progress: { completed: 1, total: 5 },
      error: { code: 'alarm', message: error, commandIndex: 1, attempt: 1, positionLost: true },
      pause: pauseOf({ source: 'error', message: error, since, by: null }),
      recovery: { attempt: 1, needsHome: true, fixit: null },
      allowedActions: ['skip', 'home', 'unlock', 'stop'],
      ...overrides,
    });

  it('says what failed, on which attempt, in the controller’s words, and that the machine must be homed first', () => {
    expect(formatRecovery(awaiting(), commands)).toEqual([`failed: #2 move x=10 y=20 F3000, attempt 1 (alarm): ${error}`, 'position lost: home the machine before a retry']);
    // Without the protocol at hand, the command is named by its type.
    expect(formatRecovery(awaiting())[0]).toBe(`failed: #2 move, attempt 1 (alarm): ${error}`);
  });

  it('says how the fixit action goes: in progress, done or failed, with its message', () => {
    const fixit = (ok: boolean | null, message: string | null) => ({ attempt: 2, needsHome: false, fixit: { action: 'home' as const, ok, message, at: since } });
    expect(formatRecovery(awaiting({ recovery: fixit(null, null) }), commands).slice(1)).toEqual(['home in progress']);
    expect(formatRecovery(awaiting({ recovery: fixit(true, 'homed') }), commands)).toEqual([`failed: #2 move x=10 y=20 F3000, attempt 2 (alarm): ${error}`, 'home done: homed']);
    expect(formatRecovery(awaiting({ recovery: { attempt: 1, needsHome: true, fixit: { action: 'unlock', ok: false, message: 'error:9 G-code lock', at: since } } })).slice(1)).toEqual([
      'position lost: home the machine before a retry',
      'unlock failed: error:9 G-code lock',
    ]);
  });

  it('shows awaiting recovery in the status: the error on lines of its own, not twice, and every other reason', () => {
    const user: PauseReason = { source: 'user', message: null, since, by: 'ana' };
    const status = awaiting({ pause: { source: 'error', message: error, since, by: null, reasons: [user, { source: 'error', message: error, since, by: null }] } });
    expect(formatStatus(status, commands)).toEqual([
      'r-42  awaiting-recovery  1/5  #2 move x=10 y=20 F3000',
      `  failed: #2 move x=10 y=20 F3000, attempt 1 (alarm): ${error}`,
      '  position lost: home the machine before a retry',
      '  also held (source: user, by ana)',
    ]);
    expect(formatRecovery(statusOf('r-1', { status: 'running' }))).toEqual([]);
  });
});

describe('formatRunTable', () => {
  it('lists runs oldest first in aligned columns', () => {
    const table = formatRunTable([statusOf('r-long-id', { createdAt: '2026-11-24T11:00:00.000Z', status: 'succeeded' }), statusOf('r-1')]);
    expect(table.split('\n')).toEqual([
      'RUN        STATUS     PROGRESS  DEVICE  CREATED                   NAME',
      'r-1        idle       0/3       sim-1   2026-11-24T10:00:00.000Z  Serial dilution',
      'r-long-id  succeeded  0/3       sim-1   2026-11-24T11:00:00.000Z  Serial dilution',
    ]);
    expect(formatRunTable([])).toBe('no runs');
  });
});

describe('isBetweenCommands', () => {
  it('is true only of a running run with no current command', () => {
    expect(isBetweenCommands(statusOf('r-1', { status: 'running' }))).toBe(true);
    expect(isBetweenCommands(statusOf('r-1', { status: 'running', current: { index: 0, type: 'home', startedAt: '2026-11-24T10:00:00.000Z' } }))).toBe(false);
    expect(isBetweenCommands(statusOf('r-1', { status: 'idle' }))).toBe(false);
  });
});

describe('a wait that ends by itself', () => {
  it('says until when a wait for another instrument waits, and that a timed pause resumes by itself', () => {
    const since = '2026-12-04T10:00:00.000Z';
    const wait = { source: 'external' as const, message: 'waiting for the plate reader', since, by: null, resumesAt: '2026-12-04T10:01:00.000Z' };
    expect(formatPause(statusOf('r-1', { status: 'paused', pause: { ...wait, reasons: [wait] } }))).toBe(
      'paused (source: external): waiting for the plate reader (until 2026-12-04T10:01:00.000Z, then it gives up)',
    );
    const timed = { source: 'protocol' as const, message: 'Settle', since, by: null, resumesAt: null };
    expect(formatPause(statusOf('r-1', { status: 'paused', pause: { ...timed, reasons: [timed] } }))).toBe('paused (source: protocol): Settle (its countdown held)');
  });
});
