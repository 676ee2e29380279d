// The one line `labrun run` keeps redrawing on a terminal: a progress bar, the status, the current command and
// what moves with the clock (the pause timer, the delay countdown). Pure: the caller says what time it is.
import type { Command, RunStatusDocument } from '@labrun/contracts';
import { describeTerse } from './format.js';
import { clock } from '@labrun/engine/commands';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 24;

export { clock };

/** `[██████░░░░░░]`: completed commands of all. */
export function progressBar(completed: number, total: number, width = BAR_WIDTH): string {
  const filled = total === 0 ? 0 : Math.round((width * Math.min(completed, total)) / total);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** Seconds left in the current delay at `now`: counting down from `endsAt`, or frozen at `remainingSeconds`. */
export function delayLeft(status: RunStatusDocument, now: number): number | null {
  const { delay } = status;
  if (!delay) return null;
  return delay.endsAt === null ? delay.remainingSeconds : Math.max(0, (Date.parse(delay.endsAt) - now) / 1000);
}

/**
 * `⠹ [████████░░░░░░░░░░░░░░░░]  2/6  paused 00:12  #3 pause "Check the samples"`, cut to `columns` so the
 * terminal never wraps it (a wrapped line could not be redrawn in place).
 */
export function formatLiveLine(status: RunStatusDocument, commands: readonly Command[], now: number, frame: number, columns: number): string {
  const held = status.status === 'paused' || status.status === 'blocked' || status.status === 'awaiting-recovery';
  const icon =
    status.status === 'awaiting-recovery'
      ? '⚠'
      : held
        ? '❚❚'
        : status.status === 'succeeded'
          ? '✓'
          : status.status === 'failed'
            ? '✗'
            : status.status === 'stopped'
              ? '■'
              : SPINNER[frame % SPINNER.length]!;
  const parts = [icon, progressBar(status.progress.completed, status.progress.total), `${status.progress.completed}/${status.progress.total}`];
  const since = status.pause?.since;
  parts.push(held && since ? `${status.status} ${clock((now - Date.parse(since)) / 1000)}` : status.status);
  if (status.current) {
    const command = commands[status.current.index];
    parts.push(`#${status.current.index + 1} ${command ? describeTerse(command) : status.current.type}`);
  }
  const left = delayLeft(status, now);
  if (left !== null) parts.push(`${clock(Math.ceil(left))} left${status.delay?.endsAt === null ? ' (frozen)' : ''}`);
  const line = parts.join('  ');
  const width = Math.max(10, columns - 1);
  return [...line].length > width ? `${[...line].slice(0, width - 1).join('')}…` : line;
}
