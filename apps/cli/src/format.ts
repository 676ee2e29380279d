// How the CLI writes runs for people: one line per status change, the reason a run is paused, and a table.
import type { Command, RunStatusDocument } from '@labrun/contracts';

const seconds = (s: number) => `${Number.isInteger(s) ? s : s.toFixed(1)} s`;

/** A command as a person would say it: `move x=10 y=20 F3000`, `delay 30 s "Incubate"`. */
export function describeCommand(command: Command): string {
  switch (command.type) {
    case 'home':
      return 'home';
    case 'move': {
      const { x, y, z, feed } = command.params;
      const axes = Object.entries({ x, y, z }).flatMap(([axis, v]) => (v === undefined ? [] : [`${axis}=${v}`]));
      return ['move', ...axes, ...(feed === undefined ? [] : [`F${feed}`])].join(' ');
    }
    case 'pause':
      return command.params?.message ? `pause "${command.params.message}"` : 'pause';
    case 'delay':
      return `delay ${seconds(command.params.seconds)}${command.params.message ? ` "${command.params.message}"` : ''}`;
    case 'comment':
      return `comment "${command.params.message}"`;
  }
}

/**
 * `r-42  running  2/5  #3 move x=10 y=20`: the run, its status, how far it got and what it is doing.
 * With the protocol's commands at hand the current one is described in full; otherwise by its type.
 */
export function formatStatusLine(status: RunStatusDocument, commands?: readonly Command[]): string {
  const parts = [status.runId, status.status, `${status.progress.completed}/${status.progress.total}`];
  if (status.current) {
    const command = commands?.[status.current.index];
    parts.push(`#${status.current.index + 1} ${command ? describeCommand(command) : status.current.type}`);
  }
  if (status.delay && status.delay.endsAt !== null) parts.push(`(${seconds(status.delay.remainingSeconds)} left)`);
  if (status.delay && status.delay.endsAt === null) parts.push(`(${seconds(status.delay.remainingSeconds)} left, countdown frozen)`);
  if (status.error) parts.push(`error: ${status.error.message}`);
  return parts.join('  ');
}

/** Why the run is not moving, `paused (source: protocol): Check the samples`; null when nothing holds it. */
export function formatPause(status: RunStatusDocument): string | null {
  const { pause } = status;
  if (!pause || (status.status !== 'paused' && status.status !== 'pausing' && status.status !== 'blocked')) return null;
  const who = pause.by ? `, by ${pause.by}` : '';
  return `${status.status} (source: ${pause.source}${who})${pause.message ? `: ${pause.message}` : ''}`;
}

/**
 * A running run between two commands (one finished, the next not yet started): true for an instant only,
 * so a live view skips it rather than print a line per command that says nothing new.
 */
export const isBetweenCommands = (status: RunStatusDocument) => status.status === 'running' && status.current === null;

/** Every line that describes a status: the status line, and the pause reason when there is one. */
export function formatStatus(status: RunStatusDocument, commands?: readonly Command[]): string[] {
  const pause = formatPause(status);
  return pause ? [formatStatusLine(status, commands), `  ${pause}`] : [formatStatusLine(status, commands)];
}

/** `labrun ls`: one row per run, newest last, columns padded to fit. */
export function formatRunTable(statuses: readonly RunStatusDocument[]): string {
  if (statuses.length === 0) return 'no runs';
  const sorted = [...statuses].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
  const rows = [
    ['RUN', 'STATUS', 'PROGRESS', 'DEVICE', 'CREATED', 'NAME'],
    ...sorted.map((s) => [s.runId, s.status, `${s.progress.completed}/${s.progress.total}`, s.deviceId, s.createdAt, s.name]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n');
}
