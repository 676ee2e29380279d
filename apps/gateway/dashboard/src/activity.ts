// The activity panel's entries: a run's live events in words, and, from its status and commands document, what
// happened before the page followed it. Pure (no DOM): tested in node (activity.spec.ts).
import type { CommandAttempt, RunCommand, RunCommandsDocument, RunEvent, RunStatus, RunStatusDocument } from '@labrun/contracts';

/** At most this many entries in the activity panel. */
export const MAX_ACTIVITY = 60;
export const ENDED: readonly RunStatus[] = ['succeeded', 'failed', 'stopped'];

export interface ActivityEntry {
  at: string;
  /** What makes a live event and a history entry the same one, so it shows once; null when nothing can repeat it. */
  key: string | null;
  text: string;
  className: string;
  fromHistory: boolean;
}

/** The key of an event that history can repeat: each attempt of a command is its own (a retry starts it again). */
export function activityKey(event: RunEvent): string | null {
  switch (event.type) {
    case 'run.created':
      return 'run.created';
    case 'command.started':
    case 'command.succeeded':
    case 'command.failed':
      return `${event.type}:${event.index}:${event.attempt ?? 1}`;
    case 'command.skipped':
      return `command.skipped:${event.index}`;
    default:
      return null;
  }
}

/** " (attempt 2)" after the first attempt: a retry reads as one. */
const nth = (attempt: number | undefined) => (attempt !== undefined && attempt > 1 ? ` (attempt ${attempt})` : '');

export function describeEvent(event: RunEvent): string {
  switch (event.type) {
    case 'run.created':
      return `created on ${event.deviceId}`;
    case 'run.rejected':
      return event.message;
    case 'action.accepted':
      return `${event.action} accepted${event.by ? ` from ${event.by}` : ''}${event.message ? `: ${event.message}` : ''}`;
    case 'action.rejected':
      return `${event.action ?? 'action'} refused: ${event.message}`;
    case 'command.started':
      return `#${event.index + 1} ${event.commandType} started${nth(event.attempt)}`;
    case 'command.succeeded':
      return `#${event.index + 1} done${nth(event.attempt)}`;
    case 'command.failed':
      return `#${event.index + 1} failed${nth(event.attempt)}: ${event.message}`;
    case 'command.skipped':
      return `#${event.index + 1} skipped${event.by ? ` by ${event.by}` : ''}`;
    case 'fixit.completed':
      return `${event.action} ${event.ok ? 'done' : 'failed'}: ${event.message}`;
    case 'motion.held':
      return `motion held (#${event.index + 1})`;
    case 'interlock.changed':
      return `interlock ${event.active ? 'active' : 'cleared'}: ${event.message}`;
    case 'run.recovered':
      return event.message;
  }
}

/** Events that say something went wrong, shown in red. */
export const isTrouble = (event: RunEvent) => event.type === 'action.rejected' || event.type === 'command.failed' || event.type === 'run.rejected' || (event.type === 'fixit.completed' && !event.ok);

/**
 * The gateway keeps no past events, only the run's status and commands document; from those, the panel shows what
 * happened before the page followed the run (a run that ended before the page opened would otherwise show nothing):
 * created, each attempt of each command, its start and end or failure, a skip, and how the run ended. Actions
 * (pause, resume, home) are not in them.
 */
export function historyOf(run: RunStatusDocument, document: RunCommandsDocument): ActivityEntry[] {
  const entries: Omit<ActivityEntry, 'fromHistory'>[] = [{ at: run.createdAt, key: 'run.created', text: `created on ${run.deviceId}`, className: '' }];
  // Commands run one after another: the last MAX_ACTIVITY that started are all the panel can show (a run may have
  // a million commands, and a new commands document comes with each step).
  const started = [];
  for (let i = document.commands.length - 1; i >= 0 && started.length < MAX_ACTIVITY; i--) {
    if (document.commands[i]!.startedAt) started.unshift(document.commands[i]!);
  }
  for (const entry of started) {
    const command = `#${entry.index + 1}`;
    for (const attempt of attemptsOf(entry)) {
      const key = `${entry.index}:${attempt.attempt}`;
      entries.push({ at: attempt.startedAt, key: `command.started:${key}`, text: `${command} ${entry.command.type} started${nth(attempt.attempt)}`, className: '' });
      const end = attempt.completedAt ?? attempt.startedAt;
      if (attempt.status === 'succeeded') entries.push({ at: end, key: `command.succeeded:${key}`, text: `${command} done${nth(attempt.attempt)}`, className: '' });
      if (attempt.status === 'failed') {
        entries.push({ at: end, key: `command.failed:${key}`, text: `${command} failed${nth(attempt.attempt)}: ${attempt.error?.message ?? 'no reason given'}`, className: 'rejected' });
      }
    }
    if (entry.status === 'skipped') {
      const at = entry.completedAt ?? entry.attempts?.at(-1)?.completedAt ?? entry.startedAt!;
      entries.push({ at, key: `command.skipped:${entry.index}`, text: `${command} skipped${entry.skippedBy ? ` by ${entry.skippedBy}` : ''}`, className: '' });
    }
  }
  const history: ActivityEntry[] = entries.filter((entry) => entry.at).map((entry) => ({ ...entry, fromHistory: true }));
  // No event says a run ended: its status does, whether the page was watching or not.
  if (ENDED.includes(run.status) && run.completedAt) {
    history.push({ at: run.completedAt, key: 'run.ended', text: `run ${run.status}`, className: run.status === 'succeeded' ? '' : 'rejected', fromHistory: false });
  }
  return history;
}

/**
 * A command's attempts: the list the engine sends after a retry or a skip, or else the one attempt its own fields
 * describe (a command tried once carries no list).
 */
export function attemptsOf(entry: RunCommand): CommandAttempt[] {
  if (entry.attempts) return entry.attempts;
  if (!entry.startedAt || entry.status === 'queued' || entry.status === 'skipped') return [];
  const status = entry.status === 'running' ? 'running' : entry.status === 'failed' ? 'failed' : 'succeeded';
  return [{ attempt: 1, status, startedAt: entry.startedAt, completedAt: entry.completedAt, error: entry.error, result: entry.result ?? null }];
}
