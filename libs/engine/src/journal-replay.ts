// Reading the run journal back: the segments in order, from the newest snapshot on, folded into each run's
// history. Read-only: deciding what to truncate, compact or delete is the journal's (journal.ts).
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RunEvent } from '@labrun/contracts';
import { parseLine, segmentNumber, SNAPSHOT_HEADER } from './journal-format.js';
import { readLines } from './journal-disk.js';

export interface Replayed {
  /** Each run's events, in order. */
  histories: RunEvent[][];
  /** What was wrong with the files (a torn last line, a corrupt line, a gap in a run), for the log. */
  warnings: string[];
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
  /** The newest segment ends in a line without its newline; the bytes before that line are good. */
  torn: { file: string; goodBytes: number } | null;
  /** Lines that are in no replayed history: tombstones, unreadable lines, the events of forgotten or broken runs. */
  deadLines: number;
  extents: Map<string, RunExtent>;
}

interface RunReplay {
  events: RunEvent[];
  /** Stopped at a gap, or never started with run.created: its later lines are ignored until it is forgotten. */
  broken: boolean;
  extent: RunExtent;
  /** Where in the warnings it says that the run does not start with run.created. */
  headless?: number;
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
  let torn: LogRead['torn'] = null;
  let records = 0;
  for (const [i, { name, number }] of all.slice(base).entries()) {
    const newest = i === all.length - base - 1;
    let size = 0;
    for await (const lines of readLines(path.join(dir, name))) {
      for (const line of lines) {
        size = line.offset + line.bytes.length + (line.torn ? 0 : 1);
        const where = `${name} line ${line.number}`;
        if (line.torn && newest) {
          warnings.push(`${where}: dropped a torn last line (${line.bytes.length} bytes written when the engine stopped)`);
          torn = { file: name, goodBytes: line.offset };
          continue;
        }
        if (i === 0 && line.number === 1 && line.bytes.toString() === SNAPSHOT_HEADER.trimEnd()) continue;
        records++;
        const parsed = line.torn ? ({ kind: 'unreadable', reason: 'no newline' } as const) : parseLine(line.bytes.toString());
        if (parsed.kind === 'unreadable') {
          warnings.push(`${where}: skipped an unreadable line (${parsed.reason})`);
        } else if (parsed.kind === 'forget') {
          // A compaction drops a forgotten run's lines from the segments it replaces, not its later lines in newer
          // segments: those start without run.created and end here. Nothing is wrong then.
          const headless = runs.get(parsed.runId)?.headless;
          if (headless !== undefined) warnings[headless] = '';
          runs.delete(parsed.runId);
        } else if (parsed.kind === 'event') {
          const { event } = parsed;
          let run = runs.get(event.runId);
          if (!run) {
            run = { events: [], broken: false, extent: { file: name, offset: line.offset, bytes: 0 } };
            runs.set(event.runId, run);
            if (event.type !== 'run.created' || event.seq !== 1) {
              run.broken = true;
              run.headless = warnings.push(`${where}: run ${event.runId} does not start with run.created (its first line is ${event.type}, seq ${event.seq}); ignored its events`) - 1;
              continue;
            }
          } else if (run.broken) {
            continue;
          } else if (event.seq !== run.events.at(-1)!.seq + 1) {
            run.broken = true;
            warnings.push(`${where}: run ${event.runId} jumps from seq ${run.events.at(-1)!.seq} to ${event.seq}; kept its ${run.events.length} events before the gap`);
            continue;
          }
          run.events.push(event);
          run.extent.bytes += line.bytes.length + 1;
        }
        // A snapshot header anywhere but the first line of the first segment replayed is out of place: dead.
      }
    }
    segments.push({ name, number, size });
  }

  const histories: RunEvent[][] = [];
  const extents = new Map<string, RunExtent>();
  for (const [runId, run] of runs) {
    if (run.events.length === 0) continue;
    histories.push(run.events);
    extents.set(runId, run.extent);
  }
  const kept = histories.reduce((sum, h) => sum + h.length, 0);
  return { histories, warnings: warnings.filter(Boolean), segments, superseded: all.slice(0, base).map((s) => s.name), torn, deadLines: records - kept, extents };
}

async function startsWithSnapshot(file: string): Promise<boolean> {
  const handle = await fsp.open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(SNAPSHOT_HEADER.length), 0, SNAPSHOT_HEADER.length, 0);
    return bytesRead === SNAPSHOT_HEADER.length && buffer.toString() === SNAPSHOT_HEADER;
  } finally {
    await handle.close();
  }
}
