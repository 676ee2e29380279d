// The run journal: every event of every run appended to <dir>/<runId>.jsonl, one JSON event per line, and made
// durable (fdatasync) before anything that reflects it is published. Events that arrive together share one
// write and one sync per file (group commit), so throughput does not collapse to one sync per event.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RunEvent } from '@labrun/contracts';

const SUFFIX = '.jsonl';
const fileOf = (dir: string, runId: string) => path.join(dir, encodeURIComponent(runId) + SUFFIX);

export interface Replayed {
  /** Each run's events, in order. */
  histories: RunEvent[][];
  /** What was wrong with the files (a torn last line, a corrupt line), for the log. */
  warnings: string[];
}

export class FileJournal {
  private pending = new Map<string, string[]>();
  private readonly files = new Map<string, fs.FileHandle>();

  private constructor(readonly dir: string) {}

  /** Open the journal in `dir` (created if missing) and replay every run in it. */
  static async open(dir: string): Promise<{ journal: FileJournal; replayed: Replayed }> {
    await fs.mkdir(dir, { recursive: true });
    const journal = new FileJournal(dir);
    return { journal, replayed: await journal.replay() };
  }

  append(event: RunEvent): void {
    const lines = this.pending.get(event.runId) ?? [];
    lines.push(JSON.stringify(event) + '\n');
    this.pending.set(event.runId, lines);
  }

  /** Write everything appended so far and sync it to disk. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await Promise.all(
      [...batch].map(async ([runId, lines]) => {
        const file = await this.handle(runId);
        await file.write(lines.join(''));
        await file.datasync();
      }),
    );
  }

  /** Forget a run: close and delete its file. */
  async remove(runId: string): Promise<void> {
    await this.files.get(runId)?.close();
    this.files.delete(runId);
    await fs.rm(fileOf(this.dir, runId), { force: true });
  }

  async close(): Promise<void> {
    await this.flush();
    await Promise.all([...this.files.values()].map((f) => f.close()));
    this.files.clear();
  }

  private async handle(runId: string): Promise<fs.FileHandle> {
    let file = this.files.get(runId);
    if (!file) {
      file = await fs.open(fileOf(this.dir, runId), 'a');
      this.files.set(runId, file);
    }
    return file;
  }

  private async replay(): Promise<Replayed> {
    const histories: RunEvent[][] = [];
    const warnings: string[] = [];
    for (const name of (await fs.readdir(this.dir)).filter((n) => n.endsWith(SUFFIX)).sort()) {
      const file = path.join(this.dir, name);
      const text = await fs.readFile(file, 'utf8');
      const events: RunEvent[] = [];
      let validBytes = 0;
      let offset = 0;
      while (offset < text.length) {
        const end = text.indexOf('\n', offset);
        if (end < 0) {
          warnings.push(`${name}: dropped a torn last line (${text.length - offset} bytes written when the engine stopped)`);
          break;
        }
        const line = text.slice(offset, end);
        const event = parseEvent(line);
        if (!event || (events.length > 0 && event.seq !== events.at(-1)!.seq + 1)) {
          warnings.push(`${name}: stopped reading at a corrupt line ${events.length + 1}; kept the ${events.length} events before it`);
          break;
        }
        events.push(event);
        offset = end + 1;
        validBytes = Buffer.byteLength(text.slice(0, offset));
      }
      // Cut anything after the last good event, so new events follow a clean line.
      if (validBytes < Buffer.byteLength(text)) await fs.truncate(file, validBytes);
      if (events[0]?.type === 'run.created') histories.push(events);
      else warnings.push(`${name}: no run.created event; ignored`);
    }
    return { histories, warnings };
  }
}

function parseEvent(line: string): RunEvent | null {
  try {
    const parsed = RunEvent.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
