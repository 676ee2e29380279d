// Which status documents are changes worth telling people about. Pure: the service keeps what it last saw of each
// run and asks here about each new document.
import type { RunStatus, RunStatusDocument } from '@labrun/contracts';
import { reasonOf } from './message.js';

/**
 * What makes two documents of a run the same situation: the status, and for a waiting run the reason it waits —
 * the headline pause's message and when it began. So a run paused again (a new `since`), or whose pause message
 * changes while paused, is a new change; a republished document about the same pause (progress, a fixit) is not.
 */
export function fingerprint(doc: RunStatusDocument): string {
  return JSON.stringify([doc.status, doc.pause?.since ?? null, reasonOf(doc)]);
}

/** The key of one change: the run and the seq of the status document that showed it. */
export const changeKey = (doc: Pick<RunStatusDocument, 'runId' | 'seq'>) => `${doc.runId}:${doc.seq}`;

export interface ChangeContext {
  /** The fingerprint of the run's last document seen (or last notified, after a restart); undefined if none. */
  last: string | undefined;
  on: readonly RunStatus[];
  /** Whether a notification with this key was already recorded (sent, being sent, or given up). */
  recorded: (key: string) => boolean;
  /** Statuses whose updatedAt is older than this many ms before `now` are not notified. */
  recentMs: number;
  now: number;
}

export type Decision = { notify: true; key: string } | { notify: false; why: string };

export function decide(doc: RunStatusDocument, context: ChangeContext): Decision {
  if (context.last === fingerprint(doc)) return { notify: false, why: 'no change' };
  if (!context.on.includes(doc.status)) return { notify: false, why: `${doc.status} is not in "on"` };
  const key = changeKey(doc);
  if (context.recorded(key)) return { notify: false, why: 'already notified' };
  const age = context.now - Date.parse(doc.updatedAt);
  if (age > context.recentMs) return { notify: false, why: `the change is ${Math.round(age / 1000)} s old (recentSeconds)` };
  return { notify: true, key };
}
