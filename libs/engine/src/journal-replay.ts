// Reading the run journal back: the segments in order, from the newest snapshot on, folded into each run's
// history. Read-only: deciding what to truncate, compact, copy aside or delete is the journal's (journal.ts).
//
// Damage costs only what it touches. A line whose CRC does not check, a record cut by zeros, zeros in the middle
// of a file: those bytes are skipped up to the next line that checks, and every later record is kept. Damage
// that nothing valid follows in the newest segment is a last write torn by a crash (never acknowledged): it is
// dropped quietly; whole lines that fail their CRC there are damage like any other. A run's seqs must climb one by one: a repeated or stale seq is skipped, a missing one is
// reported, and the run keeps every event it has on either side, so a repeat never cuts a run's later history.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RunEvent } from '@labrun/contracts';
import { LEGACY_SNAPSHOT_HEADER, parseLine, runIdsIn, segmentNumber, SNAPSHOT_HEADER, unwrapLine } from './journal-format.js';
import { readLines, type Line, type Zeros } from './journal-disk.js';

/** A run the journal could not give back whole: what it lost, for the engine to log loudly. */
export interface DamagedRun {
  runId: string;
  /** The seqs missing from its history, as ranges; empty when the damage does not say which. */
  lost: Array<{ from: number; to: number }>;
  /** Its run.created was lost, or none of its events could be read: it is not restored. */
  dropped: boolean;
  /** What happened to it, in words, for the log. */
  message: string;
}

export interface Replayed {
  /** Each run's events, in order. */
  histories: RunEvent[][];
  /** What was wrong with the files (a torn last record, damaged bytes, a repeated or missing seq), for the log. */
  warnings: string[];
  /** Runs that lost events to damage or came back with a gap in their seqs. */
  damaged: DamagedRun[];
}

export interface SegmentRead {
  name: string;
  number: number;
  size: number;
}

/** Where a replayed run's history is: the line it starts on and how many bytes its lines take. */
export interface RunExtent {
  file: string;
  offset: number;
  bytes: number;
}

export interface LogRead extends Replayed {
  /** The segments replayed, oldest first: the newest snapshot and every segment after it. */
  segments: SegmentRead[];
  /** Segments below the newest snapshot, which it replaces: left over from a compaction that stopped before deleting them. */
  superseded: string[];
  /** The newest segment ends in a record its engine did not finish writing; the bytes before it are good. */
  torn: { file: string; goodBytes: number } | null;
  /** Segments with damaged bytes (other than a torn last record): to be kept aside before the log is rewritten. */
  damagedSegments: string[];
  /** Lines written without a CRC by an engine before it: the log is rewritten with CRCs. */
  legacyLines: number;
  /** Lines that are in no replayed history: tombstones, unreadable lines, repeats, the events of forgotten or broken runs. */
  deadLines: number;
  extents: Map<string, RunExtent>;
}

interface RunReplay {
  events: RunEvent[];
  /** Never started with run.created: its lines are ignored until it is forgotten. */
  headless?: { warning: number; firstSeq: number; count: number };
  lost: Array<{ from: number; to: number }>;
  extent: RunExtent;
}

/** Damaged bytes not yet known to be followed by a valid line. */
interface Damage {
  from: number;
  to: number;
  line: number;
  reasons: Set<string>;
  runIds: Set<string>;
  /** Some of it is a record cut short or zeros, as a crash mid-write leaves; whole lines that fail their CRC are not. */
  cut: boolean;
}

/** Replay the segments named in `names` (other names are ignored). */
export async function readSegments(dir: string, names: string[]): Promise<LogRead> {
  const all = names
    .map((name) => ({ name, number: segmentNumber(name) }))
    .filter((s): s is { name: string; number: number } => s.number !== null)
    .sort((a, b) => a.number - b.number);
  let base = 0;
  for (let i = all.length - 1; i > 0; i--) {
    if (await startsWithSnapshot(path.join(dir, all[i]!.name))) {
      base = i;
      break;
    }
  }

  const runs = new Map<string, RunReplay>();
  const warnings: string[] = [];
  const segments: SegmentRead[] = [];
  const damagedSegments: string[] = [];
  /** Runs named in damaged bytes, and the seq they had reached when the damage was met. */
  const touched = new Map<string, number>();
  let torn: LogRead['torn'] = null;
  let records = 0;
  let legacyLines = 0;

  const event = (event: RunEvent, where: string, line: Line, name: string) => {
    let run = runs.get(event.runId);
    if (!run) {
      run = { events: [], lost: [], extent: { file: name, offset: line.offset, bytes: 0 } };
      runs.set(event.runId, run);
      if (event.type !== 'run.created' || event.seq !== 1) {
        const warning = warnings.push(`${where}: run ${event.runId} does not start with run.created (its first line is ${event.type}, seq ${event.seq}); ignored its events`) - 1;
        run.headless = { warning, firstSeq: event.seq, count: 1 };
        return;
      }
    } else if (run.headless) {
      run.headless.count++;
      return;
    } else {
      const last = run.events.at(-1)!.seq;
      if (event.seq <= last) {
        warnings.push(`${where}: run ${event.runId} repeats seq ${event.seq} (${event.type}) after seq ${last}; skipped the repeat, kept its later events`);
        return;
      }
      if (event.seq > last + 1) {
        run.lost.push({ from: last + 1, to: event.seq - 1 });
        warnings.push(`${where}: run ${event.runId} is missing ${seqs({ from: last + 1, to: event.seq - 1 })} (it jumps from seq ${last} to ${event.seq}); kept its events on both sides`);
      }
    }
    run.events.push(event);
    run.extent.bytes += line.bytes.length + 1;
  };

  for (const [i, { name, number }] of all.slice(base).entries()) {
    const newest = i === all.length - base - 1;
    let size = 0;
    let damage = null as Damage | null;
    const damaged = (item: Line | Zeros, reason: string) => {
      const to = item.kind === 'zeros' ? item.offset + item.length : item.offset + item.bytes.length + (item.torn ? 0 : 1);
      damage ??= { from: item.offset, to, line: item.kind === 'line' ? item.number : 0, reasons: new Set(), runIds: new Set(), cut: false };
      damage.to = to;
      if (item.kind === 'zeros' || item.torn) damage.cut = true;
      if (!damage.line && item.kind === 'line') damage.line = item.number;
      damage.reasons.add(reason);
      if (item.kind === 'line') for (const runId of runIdsIn(item.bytes)) damage.runIds.add(runId);
    };
    // Damage followed by a valid line is in the middle of the log: say so, and name the runs it touched.
    const confirm = () => {
      if (!damage) return;
      const names = [...damage.runIds];
      for (const runId of names) if (!touched.has(runId)) touched.set(runId, runs.get(runId)?.events.at(-1)?.seq ?? 0);
      warnings.push(
        `${name} bytes ${damage.from}–${damage.to - 1}${damage.line ? ` (from line ${damage.line})` : ''}: skipped ${damage.to - damage.from} damaged bytes (${[...damage.reasons].join(', ')}) up to the next record that checks; ${names.length > 0 ? `they name run ${names.join(', run ')}` : 'no run id can be read in them'}`,
      );
      if (!damagedSegments.includes(name)) damagedSegments.push(name);
      damage = null;
    };

    for await (const items of readLines(path.join(dir, name))) {
      for (const item of items) {
        if (item.kind === 'zeros') {
          if (item.last) {
            size = item.offset;
            continue; // space written ahead of the lines
          }
          damaged(item, `${item.length} zero bytes`);
          continue;
        }
        size = item.offset + item.bytes.length + (item.torn ? 0 : 1);
        const where = `${name} line ${item.number}`;
        if (item.torn) {
          damaged(item, 'a record cut short');
          continue;
        }
        const unwrapped = unwrapLine(item.bytes);
        if (unwrapped.kind === 'damaged') {
          damaged(item, unwrapped.reason);
          continue;
        }
        const parsed = parseLine(unwrapped.text);
        if (unwrapped.kind === 'legacy' && parsed.kind === 'unreadable') {
          // Without a CRC, a line that does not parse is damage like any other.
          damaged(item, parsed.reason);
          continue;
        }
        confirm();
        if (unwrapped.kind === 'legacy') legacyLines++;
        if (i === 0 && item.number === 1 && parsed.kind === 'snapshot') continue;
        records++;
        if (parsed.kind === 'unreadable') {
          warnings.push(`${where}: skipped a line that checks but cannot be used (${parsed.reason})`);
        } else if (parsed.kind === 'forget') {
          // A compaction drops a forgotten run's lines from the segments it replaces, not its later lines in newer
          // segments: those start without run.created and end here. Nothing is wrong then.
          const headless = runs.get(parsed.runId)?.headless;
          if (headless !== undefined) warnings[headless.warning] = '';
          runs.delete(parsed.runId);
          touched.delete(parsed.runId);
        } else if (parsed.kind === 'event') {
          event(parsed.event, where, item, name);
        }
        // A snapshot header anywhere but the first line of the first segment replayed is out of place: dead.
      }
    }
    if (damage !== null) {
      const last = damage;
      if (newest && last.cut) {
        // Nothing valid after it, and cut short: the last write, stopped by a crash before it was acknowledged.
        const names = [...last.runIds];
        warnings.push(
          `${name}${last.line ? ` line ${last.line}` : ''}: dropped a torn last record (${last.to - last.from} bytes written when the engine stopped${names.length > 0 ? `, of run ${names.join(', run ')}` : ''})`,
        );
        torn = { file: name, goodBytes: last.from };
        size = last.from;
      } else {
        confirm();
      }
    }
    segments.push({ name, number, size });
  }

  const histories: RunEvent[][] = [];
  const extents = new Map<string, RunExtent>();
  const damaged: DamagedRun[] = [];
  for (const [runId, run] of runs) {
    if (run.headless) {
      const lost = { from: 1, to: run.headless.firstSeq - 1 };
      damaged.push({ runId, lost: [lost], dropped: true, message: `run ${runId} lost ${seqs(lost)} (its run.created) and cannot be restored; its ${run.headless.count} later events are ignored` });
      continue;
    }
    histories.push(run.events);
    extents.set(runId, run.extent);
    const last = run.events.at(-1)!.seq;
    if (run.lost.length > 0) {
      const missing = run.lost.map(seqs).join(', ');
      damaged.push({
        runId,
        lost: run.lost,
        dropped: false,
        message: `run ${runId} is missing ${missing}: it is restored from its other ${run.events.length} events (up to seq ${last}); check it before resuming it`,
      });
    } else if (touched.has(runId) && touched.get(runId) === last) {
      // Named in damaged bytes, and nothing after them: it may have lost its latest events.
      damaged.push({
        runId,
        lost: [],
        dropped: false,
        message: `run ${runId} is named in damaged bytes after its seq ${last}: events after it may be lost; it is restored from its ${run.events.length} events; check it before resuming it`,
      });
    }
  }
  for (const runId of touched.keys()) {
    if (!runs.has(runId)) damaged.push({ runId, lost: [], dropped: true, message: `run ${runId} is named in damaged bytes and none of its events can be read: it cannot be restored` });
  }
  const kept = histories.reduce((sum, h) => sum + h.length, 0);
  return {
    histories,
    warnings: warnings.filter(Boolean),
    damaged,
    segments,
    superseded: all.slice(0, base).map((s) => s.name),
    torn,
    damagedSegments,
    legacyLines,
    deadLines: records - kept,
    extents,
  };
}

const seqs = ({ from, to }: { from: number; to: number }) => (from === to ? `seq ${from}` : `seqs ${from}–${to}`);

async function startsWithSnapshot(file: string): Promise<boolean> {
  const handle = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(SNAPSHOT_HEADER.length), 0, SNAPSHOT_HEADER.length, 0);
    const head = buffer.subarray(0, bytesRead).toString();
    return head === SNAPSHOT_HEADER || head.startsWith(LEGACY_SNAPSHOT_HEADER);
  } finally {
    await handle.close();
  }
}
