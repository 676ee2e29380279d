// What the run journal's files hold: segment files `journal-<8 digits>.log`, one JSON record per line. A line is
// either a run event exactly as the engine produced it (JSON.stringify(event)), or a journal record, which has a
// `journal` key and no `type`: a tombstone `{"journal":"forget","runId":"r-1"}` written when a run is forgotten, or
// the header `{"journal":"snapshot"}` on the first line of a segment that replaces every segment numbered below it.
import { z } from 'zod';
import { RunEvent, RunId } from '@labrun/contracts';

export const SEGMENT = /^journal-(\d{8,})\.log$/;
export const segmentName = (number: number) => `journal-${String(number).padStart(8, '0')}.log`;
export const segmentNumber = (name: string): number | null => {
  const match = SEGMENT.exec(name);
  return match ? Number(match[1]) : null;
};

/** A file being written by a compaction; it becomes a segment only when renamed into place. */
export const TEMP_SUFFIX = '.tmp';

export const SNAPSHOT_HEADER = '{"journal":"snapshot"}\n';
export const forgetRecord = (runId: string) => `${JSON.stringify({ journal: 'forget', runId })}\n`;

const JournalRecord = z.discriminatedUnion('journal', [
  z.strictObject({ journal: z.literal('snapshot') }),
  z.strictObject({ journal: z.literal('forget'), runId: RunId }),
]);

export type JournalLine =
  | { kind: 'event'; event: RunEvent }
  | { kind: 'forget'; runId: string }
  | { kind: 'snapshot' }
  | { kind: 'unreadable'; reason: string };

export function parseLine(text: string): JournalLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', reason: 'not JSON' };
  }
  if (typeof value === 'object' && value !== null && 'journal' in value) {
    const record = JournalRecord.safeParse(value);
    if (!record.success) return { kind: 'unreadable', reason: `not a journal record (${firstIssue(record.error)})` };
    return record.data.journal === 'forget' ? { kind: 'forget', runId: record.data.runId } : { kind: 'snapshot' };
  }
  const event = RunEvent.safeParse(value);
  return event.success ? { kind: 'event', event: event.data } : { kind: 'unreadable', reason: `not a run event (${firstIssue(event.error)})` };
}

/**
 * The run a line belongs to, read without validating it: what a compaction needs to decide whether to copy a
 * line it wrote itself. Null for journal records and unreadable lines.
 */
export function runIdOf(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || 'journal' in value) return null;
    const runId = (value as { runId?: unknown }).runId;
    return typeof runId === 'string' ? runId : null;
  } catch {
    return null;
  }
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
