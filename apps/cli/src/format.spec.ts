// Unit tests of how the CLI describes runs to people.
import { describe, expect, it } from 'vitest';
import type { Command, RunStatusDocument } from '@labrun/contracts';
import { describeCommand, formatPause, formatRunTable, formatStatus, formatStatusLine, isBetweenCommands } from './format.js';
import { statusDocument as statusOf } from '@labrun/testkit';

const commands: Command[] = [
  { type: 'home' },
  { type: 'move', params: { x: 10, y: 20, feed: 3000 } },
  { type: 'pause', params: { message: 'Check the samples' } },
  { type: 'delay', params: { seconds: 30, message: 'Incubate' } },
  { type: 'comment', params: { message: 'Done' } },
];

describe('describeCommand', () => {
  it('says each command as a person would', () => {
    expect(commands.map(describeCommand)).toEqual(['home', 'move x=10 y=20 F3000', 'pause "Check the samples"', 'delay 30 s "Incubate"', 'comment "Done"']);
    expect(describeCommand({ type: 'pause' })).toBe('pause');
    expect(describeCommand({ type: 'delay', params: { seconds: 1.5 } })).toBe('delay 1.5 s');
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

describe('formatPause', () => {
  const since = '2026-11-24T10:00:00.000Z';
  it('says what paused the run, who, and its message', () => {
    expect(formatPause(statusOf('r-1', { status: 'paused', pause: { source: 'protocol', message: 'Check the samples', since, by: null } }))).toBe(
      'paused (source: protocol): Check the samples',
    );
    expect(formatPause(statusOf('r-1', { status: 'pausing', pause: { source: 'user', message: null, since: null, by: 'ana' } }))).toBe('pausing (source: user, by ana)');
    expect(formatPause(statusOf('r-1', { status: 'blocked', pause: { source: 'interlock', message: 'door open', since, by: null } }))).toBe('blocked (source: interlock): door open');
  });

  it('has nothing to say of a run that is not held', () => {
    expect(formatPause(statusOf('r-1', { status: 'running' }))).toBeNull();
    expect(formatStatus(statusOf('r-1'))).toEqual(['r-1  idle  0/3']);
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
