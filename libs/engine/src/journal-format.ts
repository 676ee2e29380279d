// What the run journal's files hold: segment files `journal-<8 digits>.log`, one record per line. A line is the
// record's CRC-32 (8 lowercase hex digits), a space, and the record's JSON: `1c291ca3 {"seq":1,...}`. The CRC
// covers the JSON's UTF-8 bytes, so damage to a line (zeros, a flipped bit, a torn write) is found and only that
// line is lost. The JSON is either a run event exactly as the engine produced it (JSON.stringify(event)), or a
// journal record, which has a `journal` key and no `type`: a tombstone `{"journal":"forget","runId":"r-1"}`
// written when a run is forgotten, or the header `{"journal":"snapshot"}` on the first line of a segment that
// replaces every segment numbered below it. Engines before the CRC wrote the bare JSON; such lines (they start
// with `{`) are still read, and the log is rewritten with CRCs on open.
import zlib from 'node:zlib';
import { z } from 'zod';
import { RunEvent, RunId } from '@labrun/contracts';

export const SEGMENT = /^journal-(\d{8,})\.log$/;
export const segmentName = (number: number) => `journal-${String(number).padStart(8, '0')}.log`;
export const segmentNumber = (name: string): number | null => {
  const match = SEGMENT.exec(name);
  return match ? Number(match[1]) : null;
};

/** A file being written by a compaction (replaceFile's temporary); it becomes a segment only when renamed into place. */
export { TEMP_SUFFIX } from '@labrun/service/files';

/** A segment's damaged copy kept for inspection: `<segment>.damaged-<timestamp>`; never read as a segment. */
export const DAMAGED_SUFFIX = '.damaged-';

/** A record's line: its CRC-32, a space, its JSON and a newline. */
export const recordLine = (json: string) => `${crcOf(json)} ${json}\n`;

const crcOf = (json: string | Buffer) => zlib.crc32(json).toString(16).padStart(8, '0');

export const SNAPSHOT_HEADER = recordLine('{"journal":"snapshot"}');
/** The header as engines before the CRC wrote it. */
export const LEGACY_SNAPSHOT_HEADER = '{"journal":"snapshot"}\n';
export const forgetRecord = (runId: string) => recordLine(JSON.stringify({ journal: 'forget', runId }));

const CHECKED = /^[0-9a-f]{8} /;
const OPEN_BRACE = 0x7b;

/**
 * A line's JSON once its CRC checks: `checked`; a line as engines before the CRC wrote it (it starts with `{`):
 * `legacy`, read as it is; anything else: `damaged`.
 */
export function unwrapLine(bytes: Buffer): { kind: 'checked' | 'legacy'; text: string } | { kind: 'damaged'; reason: string } {
  if (bytes[0] === OPEN_BRACE) return { kind: 'legacy', text: bytes.toString() };
  const head = bytes.subarray(0, 9).toString('latin1');
  if (!CHECKED.test(head)) return { kind: 'damaged', reason: 'no CRC at the start of the line' };
  const json = bytes.subarray(9);
  if (crcOf(json) !== head.slice(0, 8)) return { kind: 'damaged', reason: 'its CRC does not match' };
  return { kind: 'checked', text: json.toString() };
}

/** The run ids that can still be read in damaged bytes, to say which runs the damage touched. */
export function runIdsIn(bytes: Buffer): string[] {
  const ids = new Set<string>();
  for (const match of bytes.toString('latin1').matchAll(/"runId":("(?:[^"\\\x00-\x1f]|\\.)*")/g)) {
    try {
      const id = JSON.parse(Buffer.from(match[1]!, 'latin1').toString()) as string;
      if (RunId.safeParse(id).success) ids.add(id);
    } catch {
      // not a whole string: the damage cut it
    }
  }
  return [...ids];
}

const JournalRecord = z.discriminatedUnion('journal', [z.strictObject({ journal: z.literal('snapshot') }), z.strictObject({ journal: z.literal('forget'), runId: RunId })]);

export type JournalLine = { kind: 'event'; event: RunEvent } | { kind: 'forget'; runId: string } | { kind: 'snapshot' } | { kind: 'unreadable'; reason: string };

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
 * The run a line's JSON belongs to, read without validating it: what a compaction needs to decide whether to
 * copy a line it wrote itself. Null for journal records and unreadable lines.
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
