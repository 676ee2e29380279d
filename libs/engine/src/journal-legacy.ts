// The journal as earlier engines wrote it: one file per run, `<encodeURIComponent(runId)>.jsonl`, one event per
// line. Read once, to move its runs into the segmented journal (journal.ts), with the rules those engines replayed
// by: a run's file is read up to a torn last line, a corrupt line or a gap in seq, and a file that does not start
// with run.created is ignored.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RunEvent } from '@labrun/contracts';
import { parseLine } from './journal-format.js';
import type { Replayed } from './journal-replay.js';

export const LEGACY_SUFFIX = '.jsonl';

export async function readLegacyFiles(dir: string, names: string[]): Promise<Replayed> {
  const histories: RunEvent[][] = [];
  const warnings: string[] = [];
  for (const name of names.filter((n) => n.endsWith(LEGACY_SUFFIX)).sort()) {
    const text = await fsp.readFile(path.join(dir, name), 'utf8');
    const events: RunEvent[] = [];
    let offset = 0;
    while (offset < text.length) {
      const end = text.indexOf('\n', offset);
      if (end < 0) {
        warnings.push(`${name}: dropped a torn last line (${text.length - offset} bytes written when the engine stopped)`);
        break;
      }
      const line = parseLine(text.slice(offset, end));
      const event = line.kind === 'event' ? line.event : null;
      if (!event || (events.length > 0 && event.seq !== events.at(-1)!.seq + 1)) {
        warnings.push(`${name}: stopped reading at a corrupt line ${events.length + 1}; kept the ${events.length} events before it`);
        break;
      }
      events.push(event);
      offset = end + 1;
    }
    // Earlier engines did not check seq 1 here; the segmented log does, so a run kept here stays kept there.
    if (events[0]?.type === 'run.created' && events[0].seq === 1) histories.push(events);
    else warnings.push(`${name}: no run.created event; ignored`);
  }
  return { histories, warnings, damaged: [] };
}
