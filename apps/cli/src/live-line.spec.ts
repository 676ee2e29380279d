// Unit tests of the live line `labrun run` redraws on a terminal.
import { describe, expect, it } from 'vitest';
import type { Command } from '@labrun/contracts';
import { statusDocument as statusOf } from '@labrun/testkit';
import { clock, delayLeft, formatLiveLine, progressBar } from './live-line.js';

const commands: Command[] = [{ type: 'home' }, { type: 'pause', params: { message: 'Check the samples' } }, { type: 'delay', params: { seconds: 90, message: 'Incubate' } }];
const t0 = Date.parse('2026-11-24T10:00:00.000Z');

describe('clock and progressBar', () => {
  it('reads minutes and seconds, and hours when there are any', () => {
    expect([clock(0), clock(83), clock(3723), clock(-5)]).toEqual(['00:00', '01:23', '1:02:03', '00:00']);
  });

  it('fills the bar in proportion to the commands completed', () => {
    expect(progressBar(0, 4, 8)).toBe('[░░░░░░░░]');
    expect(progressBar(1, 4, 8)).toBe('[██░░░░░░]');
    expect(progressBar(4, 4, 8)).toBe('[████████]');
    expect(progressBar(0, 0, 4)).toBe('[░░░░]');
  });
});

describe('formatLiveLine', () => {
  it('shows a paused run with how long it has been paused, by the clock', () => {
    const reason = { source: 'protocol' as const, message: 'Check the samples', since: '2026-11-24T10:00:00.000Z', by: null };
    const paused = statusOf('r-1', {
      status: 'paused',
      pause: { ...reason, reasons: [reason] },
      current: { index: 1, type: 'pause', startedAt: '2026-11-24T10:00:00.000Z' },
      progress: { completed: 1, total: 3 },
    });
    expect(formatLiveLine(paused, commands, t0 + 83_000, 0, 200)).toBe('❚❚  [████████░░░░░░░░░░░░░░░░]  1/3  paused 01:23  #2 pause "Check the samples"');
  });

  it('marks a run awaiting recovery and counts how long it has waited', () => {
    const reason = { source: 'error' as const, message: 'ALARM:9 Homing required', since: '2026-11-24T10:00:00.000Z', by: null };
    const awaiting = statusOf('r-1', {
      status: 'awaiting-recovery',
      pause: { ...reason, reasons: [reason] },
      current: { index: 0, type: 'home', startedAt: '2026-11-24T10:00:00.000Z' },
      progress: { completed: 0, total: 3 },
    });
    expect(formatLiveLine(awaiting, commands, t0 + 5_000, 3, 200)).toBe('⚠  [░░░░░░░░░░░░░░░░░░░░░░░░]  0/3  awaiting-recovery 00:05  #1 home');
  });

  it('counts a delay down from endsAt, and says when the countdown is frozen', () => {
    const delay = { index: 2, seconds: 90, message: 'Incubate', remainingSeconds: 90, endsAt: '2026-11-24T10:01:30.000Z' };
    const running = statusOf('r-1', { status: 'running', current: { index: 2, type: 'delay', startedAt: '2026-11-24T10:00:00.000Z' }, progress: { completed: 2, total: 3 }, delay });
    expect(formatLiveLine(running, commands, t0 + 20_500, 1, 200)).toBe('⠙  [████████████████░░░░░░░░]  2/3  running  #3 delay 90 s "Incubate"  01:10 left');
    expect(delayLeft(running, t0 + 100_000)).toBe(0);
    const frozen = { ...running, status: 'paused' as const, delay: { ...delay, remainingSeconds: 42.5, endsAt: null } };
    expect(formatLiveLine(frozen, commands, t0 + 999_000, 0, 200)).toContain('00:43 left (frozen)'); // a countdown rounds up: 42.5 s left reads 00:43
  });

  it('never runs wider than the terminal', () => {
    const running = statusOf('r-1', { status: 'running', current: { index: 1, type: 'pause', startedAt: '2026-11-24T10:00:00.000Z' } });
    const line = formatLiveLine(running, commands, t0, 0, 40);
    expect([...line]).toHaveLength(39);
    expect(line.endsWith('…')).toBe(true);
  });
});
