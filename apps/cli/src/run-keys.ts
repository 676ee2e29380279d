// The keys `labrun run` answers on a terminal, and the hint that names them: exactly those of the actions the run's
// status allows now that a person at the terminal acts with — a resume, and the ways out of a failed command.
import type { ActionType, RunStatusDocument } from '@labrun/contracts';

/**
 * Each action a key sends, in the order the hint names them. Stop has no key: a stray key press must never end a
 * run (`labrun stop` does, on purpose), and neither do play or pause, which a person at the terminal has no need of.
 */
const ACTION_KEYS: readonly { action: ActionType; keys: string; name: string }[] = [
  { action: 'resume', keys: '\r\n', name: 'Enter' },
  { action: 'retry', keys: 'r', name: 'r' },
  { action: 'skip', keys: 's', name: 's' },
  { action: 'home', keys: 'h', name: 'h' },
  { action: 'unlock', keys: 'u', name: 'u' },
];

/** The actions the terminal offers for this status: those with a key that `allowedActions` lists. */
export const offeredActions = (status: RunStatusDocument): ActionType[] => ACTION_KEYS.filter(({ action }) => status.allowedActions.includes(action)).map(({ action }) => action);

/** The action a key press sends now, or null when the key means nothing or its action is not allowed. */
export function actionForKey(key: string, status: RunStatusDocument): ActionType | null {
  const entry = ACTION_KEYS.find(({ keys }) => keys.includes(key));
  return entry && status.allowedActions.includes(entry.action) ? entry.action : null;
}

/**
 * What to tell a person who can act now: `press Enter to resume (or run: labrun resume r-1)` on a terminal,
 * `resume it with: labrun resume r-1` elsewhere; for a failed command `press r to retry, s to skip, h to home …`.
 * Null when the status offers nothing.
 */
export function formatKeyHint(status: RunStatusDocument, interactive: boolean): string | null {
  const offered = offeredActions(status);
  if (offered.length === 0) return null;
  const command = `labrun ${offered.join('|')} ${status.runId}`;
  if (!interactive) return `${offered.includes('resume') ? 'resume' : 'recover'} it with: ${command}`;
  const keys = offered.map((action) => `${ACTION_KEYS.find((k) => k.action === action)!.name} to ${action}`);
  return `press ${keys.join(', ')} (or run: ${command})`;
}
