// How the CLI writes runs for people: one line per status change, why a run waits (every pause reason, what a
// failed command needs), and a table. Commands read as the engine describes them (@labrun/engine/commands).
import type { Command, PauseReason, RunStatusDocument } from '@labrun/contracts';
import { describeCommand } from '@labrun/engine/commands';

const seconds = (s: number) => `${Number.isInteger(s) ? s : s.toFixed(1)} s`;

/** A command as a terminal says it (`move x=10 y=20 F3000`, `delay 30 s "Incubate"`): the engine's own wording. */
export const describeTerse = (command: Command) => describeCommand(command, 'terse');

/** `#3 move x=10 y=20`: a command by its place in the protocol, described in full when the protocol is at hand. */
function commandAt(index: number, type: string, commands?: readonly Command[]): string {
  const command = commands?.[index];
  return `#${index + 1} ${command ? describeTerse(command) : type}`;
}

/**
 * `r-42  running  2/5  #3 move x=10 y=20`: the run, its status, how far it got and what it is doing.
 * With the protocol's commands at hand the current one is described in full; otherwise by its type.
 */
export function formatStatusLine(status: RunStatusDocument, commands?: readonly Command[]): string {
  const parts = [status.runId, status.status, `${status.progress.completed}/${status.progress.total}`];
  if (status.current) parts.push(commandAt(status.current.index, status.current.type, commands));
  if (status.delay && status.delay.endsAt !== null) parts.push(`(${seconds(status.delay.remainingSeconds)} left)`);
  if (status.delay && status.delay.endsAt === null) parts.push(`(${seconds(status.delay.remainingSeconds)} left, countdown frozen)`);
  // Awaiting recovery, the error has lines of its own (formatRecovery).
  if (status.error && status.status !== 'awaiting-recovery') parts.push(`error: ${status.error.message}`);
  return parts.join('  ');
}

const HELD = ['paused', 'pausing', 'blocked', 'awaiting-recovery'];

/** One reason a run waits: `(source: protocol): Check the samples`, `(source: user, by ana)`. */
const reasonText = (reason: PauseReason) => `(source: ${reason.source}${reason.by ? `, by ${reason.by}` : ''})${reason.message ? `: ${reason.message}` : ''}${until(reason)}`;
/** When a timed pause resumes by itself or a wait gives up: ` (until 10:01:00Z, then it gives up)`, or held. */
const until = (reason: PauseReason) =>
  reason.resumesAt === undefined
    ? ''
    : reason.resumesAt === null
      ? ' (its countdown held)'
      : ` (until ${reason.resumesAt}, then it ${reason.source === 'external' ? 'gives up' : 'resumes by itself'})`;

/**
 * Why the run is not moving, `paused (source: protocol): Check the samples`; null when nothing holds it. Awaiting
 * recovery, formatRecovery says it instead.
 */
export function formatPause(status: RunStatusDocument): string | null {
  const { pause } = status;
  if (!pause || !HELD.includes(status.status) || status.status === 'awaiting-recovery') return null;
  return `${status.status} ${reasonText(pause)}`;
}

/** Every other reason the run waits for besides the headline one: `also held (source: interlock): door open`. */
export function formatOtherReasons(status: RunStatusDocument): string[] {
  const { pause } = status;
  if (!pause || !HELD.includes(status.status)) return [];
  return pause.reasons.filter((r) => r.source !== pause.source).map((r) => `also held ${reasonText(r)}`);
}

/**
 * What a run awaiting recovery needs, a line each: what failed, on which attempt, in the controller's words;
 * whether it must be homed first; the fixit action (home, unlock) in progress or the last one's outcome.
 */
export function formatRecovery(status: RunStatusDocument, commands?: readonly Command[]): string[] {
  const { error, recovery } = status;
  if (status.status !== 'awaiting-recovery' || !error) return [];
  const index = error.commandIndex ?? status.current?.index ?? null;
  const what = index === null ? 'a command' : commandAt(index, status.current?.type ?? 'command', commands);
  const attempt = recovery?.attempt ?? error.attempt;
  const lines = [`failed: ${what}${attempt === undefined ? '' : `, attempt ${attempt}`} (${error.code}): ${error.message}`];
  if (recovery?.needsHome) lines.push('position lost: home the machine before a retry');
  const fixit = recovery?.fixit;
  if (fixit) {
    const outcome = fixit.ok === null ? 'in progress' : fixit.ok ? 'done' : 'failed';
    lines.push(`${fixit.action} ${outcome}${fixit.message ? `: ${fixit.message}` : ''}`);
  }
  return lines;
}

/**
 * A running run between two commands (one finished, the next not yet started): true for an instant only,
 * so a live view skips it rather than print a line per command that says nothing new.
 */
export const isBetweenCommands = (status: RunStatusDocument) => status.status === 'running' && status.current === null;

/** Every line that describes a status: the status line, then why it waits: the recovery it needs, every pause reason. */
export function formatStatus(status: RunStatusDocument, commands?: readonly Command[]): string[] {
  const pause = formatPause(status);
  const details = [...formatRecovery(status, commands), ...(pause ? [pause] : []), ...formatOtherReasons(status)];
  return [formatStatusLine(status, commands), ...details.map((line) => `  ${line}`)];
}

/** `labrun ls`: one row per run, newest last, columns padded to fit. */
export function formatRunTable(statuses: readonly RunStatusDocument[]): string {
  if (statuses.length === 0) return 'no runs';
  const sorted = [...statuses].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
  const rows = [['RUN', 'STATUS', 'PROGRESS', 'DEVICE', 'CREATED', 'NAME'], ...sorted.map((s) => [s.runId, s.status, `${s.progress.completed}/${s.progress.total}`, s.deviceId, s.createdAt, s.name])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n');
}
