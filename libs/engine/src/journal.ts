// The run journal: every event of every run, appended to one log shared by all runs and made durable before
// anything that reflects it is published. Events that arrive together share one write and one fdatasync
// (group commit), however many runs they belong to: resuming 1,000 runs costs one sync, not 1,000.
//
// The log is a series of segment files in `dir` (format: journal-format.ts). Appends go to the newest segment;
// past `segmentBytes` the next flush starts a new one. Forgetting a run appends a tombstone. Space is reclaimed by
// compaction: once the older (sealed) segments hold at least as many dead bytes as live ones (and at least a
// segment's worth), the live runs' lines in them are copied into a snapshot, a segment whose first line says it
// replaces every segment below it. It is written to a temp file, synced, renamed over the newest sealed segment
// and the directory synced; only then are the segments it replaces deleted. A crash at any step leaves either the
// old segments (and a temp file, ignored) or the snapshot (and segments it replaces, ignored): the same histories.
// Opening a log that holds anything dead, damaged or written without CRCs rewrites it as one snapshot, so every
// start begins from a clean log; a damaged segment is first copied aside as it was (journal-replay.ts says what
// replay keeps of it). The engine holding the data directory is one at a time: see data-dir-lock.ts.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RunEvent } from '@labrun/contracts';
import { DAMAGED_SUFFIX, forgetRecord, recordLine, runIdOf, segmentName, segmentNumber, SNAPSHOT_HEADER, TEMP_SUFFIX, unwrapLine } from './journal-format.js';
import { ChunkedWriter, datasync, Preallocated, readLines, replaceAtomically, syncDir } from './journal-disk.js';
import { LEGACY_SUFFIX, readLegacyFiles } from './journal-legacy.js';
import { readSegments, type Replayed } from './journal-replay.js';

export type { DamagedRun, Replayed } from './journal-replay.js';

export interface JournalOptions {
  /** Start a new segment once the newest one holds this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** Problems met while running, such as a compaction that failed (default: a process warning). */
  warn?: (message: string) => void;
  /** Commits up to this many bytes are synced on the event loop, larger ones in the thread pool (default 16 KiB). */
  inlineSyncBytes?: number;
  /** Told of every group commit once it is on disk (the engine's metrics); keep it cheap, it runs on every commit. */
  onCommit?: (commit: JournalCommit) => void;
}

/** One group commit: what it wrote and how long its fdatasync took. */
export interface JournalCommit {
  /** Run events written (records that forget a run are not events). */
  events: number;
  bytes: number;
  /** How long the fdatasync of the commit took, in seconds. */
  syncSeconds: number;
}

interface Segment {
  name: string;
  number: number;
  size: number;
  /** Bytes in lines of live runs; the rest (tombstones, forgotten runs) is dead. */
  live: number;
}

/** Where a live run's lines are: from `start` on, `bytes` in each segment. */
interface RunLines {
  runId: string;
  start: { segment: Segment; offset: number };
  bytes: Map<Segment, number>;
}

interface PendingLine {
  runId: string;
  line: string;
  forget: boolean;
}

const MiB = 1024 * 1024;
const NEWLINE = Buffer.from('\n');

class Aborted extends Error {}

export class FileJournal {
  private pending: PendingLine[] = [];
  /** The last commit scheduled; never rejects, so the next one can follow it. */
  private tail: Promise<void> = Promise.resolve();
  /** A commit scheduled that has not taken its lines yet: every flush() until it starts shares it. */
  private next: Promise<void> | null = null;
  private inFlight: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  /** After a compaction failed, wait for the sealed segments to grow by a segment before trying again. */
  private compactAt = 0;
  private closing = false;

  private constructor(
    readonly dir: string,
    private segments: Segment[],
    private file: Preallocated,
    private readonly runs: Map<string, RunLines>,
    private readonly options: Required<JournalOptions>,
  ) {}

  /**
   * Open the journal in `dir` (created if missing) and replay every run in it. Per-run files written by earlier
   * engines are moved into the log; a log holding dead lines is rewritten as one snapshot.
   */
  static async open(dir: string, options: JournalOptions = {}): Promise<{ journal: FileJournal; replayed: Replayed }> {
    const settings: Required<JournalOptions> = {
      segmentBytes: options.segmentBytes ?? 64 * MiB,
      warn: options.warn ?? ((message) => process.emitWarning(message, 'JournalWarning')),
      inlineSyncBytes: options.inlineSyncBytes ?? 16 * 1024,
      onCommit: options.onCommit ?? (() => {}),
    };
    await fsp.mkdir(dir, { recursive: true });
    const names = await fsp.readdir(dir);
    // Left by a compaction that stopped before renaming it into place: never part of the journal.
    await Promise.all(names.filter((n) => n.endsWith(TEMP_SUFFIX)).map((n) => fsp.rm(path.join(dir, n), { force: true })));
    const legacy = names.filter((n) => n.endsWith(LEGACY_SUFFIX));

    if (!names.some((n) => segmentNumber(n) !== null)) {
      const replayed = await readLegacyFiles(dir, legacy);
      const journal = await FileJournal.rewrite(dir, segmentName(1), replayed.histories, settings);
      // Only now that the log holding them is durable may the per-run files go.
      await Promise.all(legacy.map((n) => fsp.rm(path.join(dir, n), { force: true })));
      if (legacy.length > 0) {
        replayed.warnings.push(`moved ${replayed.histories.length} runs from ${legacy.length} per-run files (<run id>${LEGACY_SUFFIX}) into ${segmentName(1)}`);
      }
      return { journal, replayed };
    }

    const log = await readSegments(dir, names);
    // Segments a finished compaction replaced, per-run files a finished migration moved: delete them once the
    // directory entry of what replaced them is surely durable.
    const leftovers = [...log.superseded, ...legacy];
    if (leftovers.length > 0) {
      await syncDir(dir);
      await Promise.all(leftovers.map((n) => fsp.rm(path.join(dir, n), { force: true })));
    }
    if (legacy.length > 0) log.warnings.push(`deleted ${legacy.length} per-run files (<run id>${LEGACY_SUFFIX}) already moved into the journal`);
    // Before anything rewrites a damaged segment, a copy of it as it is goes aside for whoever investigates.
    for (const name of log.damagedSegments) log.warnings.push(`kept a copy of the damaged ${name} as ${await keepAside(dir, name)}`);
    if (log.legacyLines > 0) log.warnings.push(`rewrote ${log.legacyLines} lines written without a CRC by an earlier engine with one`);
    const replayed = { histories: log.histories, warnings: log.warnings, damaged: log.damaged };

    const newest = log.segments.at(-1)!;
    if (log.segments.length > 1 || log.deadLines > 0 || log.damagedSegments.length > 0 || log.legacyLines > 0) {
      const journal = await FileJournal.rewrite(dir, newest.name, log.histories, settings);
      await Promise.all(log.segments.slice(0, -1).map((s) => fsp.rm(path.join(dir, s.name), { force: true })));
      return { journal, replayed };
    }

    // One clean segment: append to it, after cutting a torn last line (and any space preallocated after the lines)
    // so new lines start on a clean one.
    const segment: Segment = { ...newest, live: 0 };
    if (log.torn) segment.size = log.torn.goodBytes;
    const file = new Preallocated(path.join(dir, newest.name), segment.size, settings.segmentBytes);
    if (log.torn) await datasync(file.fd);
    const runs = new Map<string, RunLines>();
    for (const [runId, extent] of log.extents) {
      runs.set(runId, { runId, start: { segment, offset: extent.offset }, bytes: new Map([[segment, extent.bytes]]) });
      segment.live += extent.bytes;
    }
    return { journal: new FileJournal(dir, [segment], file, runs, settings), replayed };
  }

  /** Buffer an event; it is written by the next flush. */
  append(event: RunEvent, json = JSON.stringify(event)): void {
    this.pending.push({ runId: event.runId, line: recordLine(json), forget: false });
  }

  /** Write everything appended so far and sync it to disk: one write and one fdatasync for all runs. */
  flush(): Promise<void> {
    if (this.next) return this.next;
    if (this.pending.length === 0) return this.inFlight ?? Promise.resolve();
    const commit = this.tail.then(() => {
      this.next = null;
      return this.commit();
    });
    this.next = commit;
    this.inFlight = commit;
    this.tail = commit.then(
      () => this.settled(commit),
      () => this.settled(commit),
    );
    return commit;
  }

  /**
   * Forget a run: once this resolves, it does not come back on replay (a run may be created again with its id).
   * If the disk refuses the tombstone, this says so through `warn` and resolves: the tombstone stays queued for the
   * next flush, and callers that fire and forget (the engine prunes this way) are not brought down by a full disk.
   */
  async remove(runId: string): Promise<void> {
    this.pending.push({ runId, line: forgetRecord(runId), forget: true });
    try {
      await this.flush();
    } catch (error) {
      this.options.warn(`could not yet write that run ${runId} is forgotten (it is kept for the next flush): ${(error as Error).message}`);
    }
  }

  /** Resolves once no compaction is running. */
  async idle(): Promise<void> {
    await this.compacting;
  }

  async close(): Promise<void> {
    this.closing = true; // a compaction stops at its next chunk; it is redone on the next open
    await this.compacting;
    try {
      await this.flush();
    } finally {
      this.file.close();
    }
  }

  private get active(): Segment {
    return this.segments.at(-1)!;
  }

  private settled(commit: Promise<void>): void {
    if (this.inFlight === commit) this.inFlight = null;
  }

  private async commit(): Promise<void> {
    if (this.pending.length === 0) return;
    if (this.active.size >= this.options.segmentBytes) await this.roll();
    const lines = this.pending;
    this.pending = [];
    const segment = this.active;
    const file = this.file;
    const start = segment.size;
    // A synchronous write only copies to the page cache (well under a millisecond for 1,000 events).
    const data = Buffer.from(lines.map((l) => l.line).join(''));
    let grown: boolean;
    try {
      grown = file.write(data);
    } catch (error) {
      // The file is cut back to the lines before: the next flush writes these lines again.
      this.pending = lines.concat(this.pending);
      throw error;
    }
    segment.size += data.length;
    const events = this.track(lines, segment, start);
    // A small commit (one action's events) is synced right here: a trip to the thread pool and back costs more
    // than the sync itself (resume latency p50 0.90 -> 0.73 ms). A large one, or one that added space, goes to the
    // thread pool so the engine keeps working meanwhile.
    const syncStart = performance.now();
    if (data.length <= this.options.inlineSyncBytes && !grown) fs.fdatasyncSync(file.fd);
    else await datasync(file.fd);
    try {
      this.options.onCommit({ events, bytes: data.length, syncSeconds: (performance.now() - syncStart) / 1000 });
    } catch (error) {
      // The lines are on disk: an observer that fails must not make the commit look refused.
      this.options.warn(`the journal's commit observer failed: ${(error as Error).message}`);
    }
    this.compactIfWorthIt();
  }

  /** Note where each line went; returns how many of them are run events. */
  private track(lines: PendingLine[], segment: Segment, start: number): number {
    let offset = start;
    let events = 0;
    for (const { runId, line, forget } of lines) {
      const bytes = Buffer.byteLength(line);
      let run = this.runs.get(runId);
      if (forget) {
        for (const [s, n] of run?.bytes ?? []) s.live -= n;
        this.runs.delete(runId);
      } else {
        if (!run) {
          run = { runId, start: { segment, offset }, bytes: new Map() };
          this.runs.set(runId, run);
        }
        run.bytes.set(segment, (run.bytes.get(segment) ?? 0) + bytes);
        segment.live += bytes;
        events++;
      }
      offset += bytes;
    }
    return events;
  }

  /** Start a new segment. If that fails, the current one keeps growing: better a big segment than lost events. */
  private async roll(): Promise<void> {
    const number = this.active.number + 1;
    const segment: Segment = { name: segmentName(number), number, size: 0, live: 0 };
    let file: Preallocated | undefined;
    try {
      file = new Preallocated(path.join(this.dir, segment.name), 0, this.options.segmentBytes);
      await syncDir(this.dir); // the new file's name is durable before anything written to it is relied on
    } catch (error) {
      file?.close();
      this.options.warn(`could not start ${segment.name}, so ${this.active.name} keeps growing: ${(error as Error).message}`);
      return;
    }
    this.file.close(); // sealed: its lines are durable; the zeros after them go
    this.file = file;
    this.segments.push(segment);
    this.compactIfWorthIt();
  }

  private compactIfWorthIt(): void {
    if (this.compacting || this.closing) return;
    const sealed = this.segments.slice(0, -1);
    const size = sealed.reduce((sum, s) => sum + s.size, 0);
    const live = sealed.reduce((sum, s) => sum + s.live, 0);
    if (sealed.length === 0 || size - live < Math.max(this.options.segmentBytes, live) || size < this.compactAt) return;
    this.compacting = this.compact(sealed)
      .then(
        () => {
          this.compactAt = 0;
        },
        (error: Error) => {
          if (error instanceof Aborted) return;
          this.compactAt = size + this.options.segmentBytes;
          this.options.warn(`could not compact ${sealed.map((s) => s.name).join(', ')}: ${error.message}`);
        },
      )
      .finally(() => {
        this.compacting = null;
      });
  }

  /**
   * Replace the sealed segments `inputs` by a snapshot of the lines in them of the runs live now, written over the
   * newest of them. Appends and flushes go on meanwhile: they only touch the newest segment, which is not an input.
   */
  private async compact(inputs: Segment[]): Promise<void> {
    const target = inputs.at(-1)!;
    const snapshot: Segment = { name: target.name, number: target.number, size: 0, live: 0 };
    // A run's lines from its start on are its current life; lines before it belong to an earlier run of that id.
    const copies = new Map<string, { run: RunLines; offset: number; bytes: number }>();
    for (const run of this.runs.values()) if (run.start.segment.number <= target.number) copies.set(run.runId, { run, offset: -1, bytes: 0 });
    const reading = inputs.filter((s) => s.live > 0);

    snapshot.size = await replaceAtomically(this.dir, target.name, async (out) => {
      const writer = new ChunkedWriter(out);
      await writer.push(SNAPSHOT_HEADER);
      for (const segment of reading) {
        for await (const lines of readLines(path.join(this.dir, segment.name))) {
          if (this.closing) throw new Aborted();
          for (const line of lines) {
            if (line.kind === 'zeros' && line.last) continue;
            // These lines were written and synced by this engine: damage to them is not copied past, it waits for
            // the next open, which reports it and keeps the segment aside.
            const unwrapped = line.kind === 'line' && !line.torn ? unwrapLine(line.bytes) : null;
            if (line.kind !== 'line' || unwrapped?.kind !== 'checked') throw new Error(`${segment.name} is damaged at byte ${line.offset}`);
            const runId = runIdOf(unwrapped.text);
            const copy = runId === null ? undefined : copies.get(runId);
            if (!copy) continue;
            const { start } = copy.run;
            if (segment.number < start.segment.number || (segment === start.segment && line.offset < start.offset)) continue;
            if (copy.offset < 0) copy.offset = writer.written;
            copy.bytes += line.bytes.length + 1;
            await writer.push(line.bytes);
            await writer.push(NEWLINE);
          }
        }
      }
      await writer.drain();
    });

    // The snapshot is in place: from now on it, not the inputs, holds these runs' lines.
    for (const { run, offset, bytes } of copies.values()) {
      if (this.runs.get(run.runId) !== run) continue; // forgotten while this ran: its copy is dead already
      for (const segment of inputs) run.bytes.delete(segment);
      run.bytes.set(snapshot, bytes);
      snapshot.live += bytes;
      run.start = { segment: snapshot, offset };
    }
    this.segments = [snapshot, ...this.segments.filter((s) => !inputs.includes(s))];
    for (const segment of inputs) if (segment !== target) await fsp.rm(path.join(this.dir, segment.name), { force: true });
  }

  /** Write `histories` as a snapshot segment `name` (replacing any file of that name) and open it for appends. */
  private static async rewrite(dir: string, name: string, histories: RunEvent[][], options: Required<JournalOptions>): Promise<FileJournal> {
    const segment: Segment = { name, number: segmentNumber(name)!, size: 0, live: 0 };
    const runs = new Map<string, RunLines>();
    segment.size = await replaceAtomically(dir, name, async (out) => {
      const writer = new ChunkedWriter(out);
      await writer.push(SNAPSHOT_HEADER);
      for (const events of histories) {
        const offset = writer.written;
        for (const event of events) await writer.push(recordLine(JSON.stringify(event)));
        const runId = events[0]!.runId;
        runs.set(runId, { runId, start: { segment, offset }, bytes: new Map([[segment, writer.written - offset]]) });
        segment.live += writer.written - offset;
      }
      await writer.drain();
    });
    return new FileJournal(dir, [segment], new Preallocated(path.join(dir, name), segment.size, options.segmentBytes), runs, options);
  }
}

/** Replay the journal in `dir` without changing anything in it (FileJournal.open also repairs and compacts). */
export async function readJournal(dir: string): Promise<Replayed> {
  const names = await fsp.readdir(dir);
  if (!names.some((n) => segmentNumber(n) !== null)) return readLegacyFiles(dir, names);
  const { histories, warnings, damaged } = await readSegments(dir, names);
  return { histories, warnings, damaged };
}

/** Copy `name` to `<name>.damaged-<timestamp>`, synced, and return the copy's name. */
async function keepAside(dir: string, name: string): Promise<string> {
  const copy = `${name}${DAMAGED_SUFFIX}${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await fsp.copyFile(path.join(dir, name), path.join(dir, copy));
  const handle = await fsp.open(path.join(dir, copy), 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await syncDir(dir);
  return copy;
}
