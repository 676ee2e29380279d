// Unit tests of how `labrun run` shows a run on a terminal: what stays on screen, and the line redrawn in place.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Command, PauseInfo, PauseReason } from '@labrun/contracts';
import { statusDocument as statusOf } from '@labrun/testkit';
import { PlainView, TerminalView } from './run-view.js';

const commands: Command[] = [{ type: 'home' }, { type: 'move', params: { x: 5 } }, { type: 'pause', params: { message: 'Check the samples' } }, { type: 'comment', params: { message: 'Done' } }];

const pauseOf = (reason: PauseReason): PauseInfo => ({ ...reason, reasons: [reason] });

/** A fake terminal: what was written, and the screen as a person would read it (each \r\x1b[2K erases the line). */
function terminal(columns = 120) {
  const stream = Object.assign(new PassThrough(), { columns, isTTY: true }) as unknown as NodeJS.WriteStream & PassThrough;
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const screen = () =>
    written
      .split('\n')
      .map((line) => line.split('\r\x1b[2K').at(-1))
      .join('\n');
  return { stream, screen };
}

describe('TerminalView', () => {
  let view: TerminalView | undefined;
  afterEach(() => view?.close());

  it('prints each command as it completes and the pause with its reason, and keeps the live line last', () => {
    const { stream, screen } = terminal();
    view = new TerminalView(commands, stream, false);
    view.show(statusOf('r-1', { status: 'running', seq: 2, current: { index: 0, type: 'home', startedAt: '2026-11-24T10:00:00.000Z' }, progress: { completed: 0, total: 4 } }));
    view.show(
      statusOf('r-1', {
        status: 'paused',
        seq: 6,
        pause: pauseOf({ source: 'protocol', message: 'Check the samples', since: new Date().toISOString(), by: null }),
        current: { index: 2, type: 'pause', startedAt: '2026-11-24T10:00:00.000Z' },
        progress: { completed: 2, total: 4 },
      }),
    );
    view.note('  press Enter to resume (or run: labrun resume r-1)');
    expect(view.show(statusOf('r-1', { status: 'running', seq: 3 }))).toBe(false);
    expect(screen().split('\n')).toEqual([
      '  ✓ #1 home',
      '  ✓ #2 move x=5',
      '  ❚❚ paused (source: protocol): Check the samples',
      '  press Enter to resume (or run: labrun resume r-1)',
      expect.stringMatching(/^❚❚ {2}\[█+░+\] {2}2\/4 {2}paused 00:0\d {2}#3 pause "Check the samples"$/),
    ]);
  });

  it('ends with the outcome in place of the live line', () => {
    const { stream, screen } = terminal();
    view = new TerminalView(commands, stream, false);
    view.show(statusOf('r-1', { status: 'running', seq: 2, progress: { completed: 3, total: 4 } }));
    view.show(statusOf('r-1', { status: 'succeeded', seq: 9, progress: { completed: 4, total: 4 }, startedAt: '2026-11-24T10:00:00.000Z', completedAt: '2026-11-24T10:01:05.000Z' }));
    view.close();
    expect(screen().split('\n').slice(-3)).toEqual(['  ✓ #4 comment "Done"', '✓ r-1 succeeded  4/4 in 01:05', '']);
  });

  it('prints a failed command awaiting recovery once, then each step of the recovery as it comes, and every other pause reason', () => {
    const { stream, screen } = terminal();
    view = new TerminalView(commands, stream, false);
    const since = new Date().toISOString();
    const message = 'ALARM:9 Homing required: home the machine, then retry';
    const error = { source: 'error' as const, message, since, by: null };
    const user = { source: 'user' as const, message: 'checking the deck', since, by: 'ana' };
    const awaiting = (seq: number, recovery: { attempt: number; needsHome: boolean; fixit: { action: 'home'; ok: boolean | null; message: string | null; at: string } | null }) =>
      statusOf('r-1', {
        status: 'awaiting-recovery',
        seq,
        current: { index: 1, type: 'move', startedAt: since },
        progress: { completed: 1, total: 4 },
        error: { code: 'alarm', message, commandIndex: 1, attempt: 1, positionLost: true },
        pause: { ...error, reasons: [user, error] },
        recovery,
        allowedActions: ['skip', 'home', 'unlock', 'stop'],
      });
    view.show(awaiting(3, { attempt: 1, needsHome: true, fixit: null }));
    view.show(awaiting(4, { attempt: 1, needsHome: true, fixit: { action: 'home', ok: null, message: null, at: since } }));
    view.show(awaiting(5, { attempt: 1, needsHome: false, fixit: { action: 'home', ok: true, message: 'homed', at: since } }));
    view.show(awaiting(6, { attempt: 1, needsHome: false, fixit: { action: 'home', ok: true, message: 'homed', at: since } }));
    expect(screen().split('\n')).toEqual([
      `  ✗ failed: #2 move x=5, attempt 1 (alarm): ${message}`,
      '    position lost: home the machine before a retry',
      '     also held (source: user, by ana): checking the deck',
      '    home in progress',
      '    home done: homed',
      expect.stringMatching(/^⚠ {2}\[█+░+\] {2}1\/4 {2}awaiting-recovery 00:0\d {2}#2 move x=5$/),
    ]);
  });

  it('says why a run failed', () => {
    const { stream, screen } = terminal();
    view = new TerminalView(commands, stream, false);
    view.show(statusOf('r-1', { status: 'failed', seq: 4, progress: { completed: 1, total: 4 }, error: { code: 'alarm', message: 'ALARM:1 Hard limit triggered', commandIndex: 1 } }));
    view.close();
    expect(screen()).toContain('  ✗ #2 ALARM:1 Hard limit triggered\n✗ r-1 failed  1/4: ALARM:1 Hard limit triggered\n');
  });
});

describe('PlainView', () => {
  it('prints one line per change and leaves out the instant between two commands', () => {
    const out = new PassThrough();
    let written = '';
    out.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const view = new PlainView(commands, out, out);
    view.show(statusOf('r-1', { status: 'running', seq: 2, current: { index: 0, type: 'home', startedAt: '2026-11-24T10:00:00.000Z' }, progress: { completed: 0, total: 4 } }));
    view.show(statusOf('r-1', { status: 'running', seq: 3, progress: { completed: 1, total: 4 } }));
    view.note('  resume accepted from ana');
    expect(written).toBe('r-1  running  0/4  #1 home\n  resume accepted from ana\n');
  });
});
