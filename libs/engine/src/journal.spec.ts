import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunEvent } from '@labrun/contracts';
import { FileJournal, readJournal } from './journal.js';
import { recordLine, unwrapLine } from './journal-format.js';
import { protocol } from './fixtures.spec-helpers.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-journal-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const created = (runId: string, at = '2026-11-24T10:00:00.000Z'): RunEvent => ({ type: 'run.created', runId, seq: 1, at, deviceId: 'sim-1', protocol });
const play = (runId: string, seq = 2): RunEvent => ({ type: 'action.accepted', runId, seq, at: '2026-11-24T10:00:01.000Z', actionId: `a-${seq}`, action: 'play', by: null, message: null, mode: null });
const json = (event: RunEvent) => JSON.stringify(event);

/** Each run's events, by run id. */
const byRun = (histories: RunEvent[][]) => Object.fromEntries(histories.map((h) => [h[0]!.runId, h]));
const logFiles = (where = dir) => fs.readdirSync(where).sort();
/** The JSON of each line of a segment, each checked against its CRC. */
const linesOf = (name: string) =>
  fs
    .readFileSync(path.join(dir, name))
    .toString()
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const unwrapped = unwrapLine(Buffer.from(line));
      if (unwrapped.kind !== 'checked') throw new Error(`${name}: a line without a good CRC: ${line}`);
      return unwrapped.text;
    });
const dirBytes = () => logFiles().reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
const copyDir = () => new Map(logFiles().map((name) => [name, fs.readFileSync(path.join(dir, name))]));
function restoreInto(files: Map<string, Buffer>): string {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-journal-crash-'));
  for (const [name, data] of files) fs.writeFileSync(path.join(to, name), data);
  return to;
}

/** Count the writes and syncs of files, whichever fs API makes them. */
async function countDiskCalls() {
  const handle = await fsp.open(path.join(dir, 'probe'), 'w');
  const fileHandle = Object.getPrototypeOf(handle) as Record<string, unknown>;
  await handle.close();
  fs.rmSync(path.join(dir, 'probe'));
  const spy = (target: object, names: string[]) => names.map((name) => vi.spyOn(target as Record<string, () => unknown>, name));
  const writes = [...spy(fs, ['write', 'writeSync', 'writev', 'writevSync']), ...spy(fileHandle, ['write', 'writev'])];
  const syncs = [...spy(fs, ['fdatasync', 'fdatasyncSync', 'fsync', 'fsyncSync']), ...spy(fileHandle, ['datasync', 'sync'])];
  // Zeros written ahead of the lines (preallocation, once per mebibyte) are not writes of lines.
  const zeros = (args: unknown[]) => Buffer.isBuffer(args[1]) && args[1].every((byte) => byte === 0);
  const count = (spies: typeof writes) => spies.reduce((sum, s) => sum + s.mock.calls.filter((args) => !zeros(args)).length, 0);
  return { writes: () => count(writes), syncs: () => count(syncs) };
}

describe('FileJournal: one log for every run', () => {
  it("replays each run's events in order, however the runs' events interleave", async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    journal.append(created('r 2%ä'));
    await journal.flush();
    journal.append(play('r 2%ä'));
    journal.append(play('r-1'));
    journal.append(play('r-1', 3));
    await journal.flush();
    await journal.close();

    expect(logFiles()).toEqual(['journal-00000001.log']);
    const { replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([]);
    expect(byRun(replayed.histories)).toEqual({ 'r-1': [created('r-1'), play('r-1'), play('r-1', 3)], 'r 2%ä': [created('r 2%ä'), play('r 2%ä')] });
  });

  it('writes and syncs once per flush, however many runs have events in it', async () => {
    const { journal } = await FileJournal.open(dir);
    const disk = await countDiskCalls();
    for (let i = 0; i < 1000; i++) journal.append(created(`r-${i}`));
    await journal.flush();
    expect({ writes: disk.writes(), syncs: disk.syncs() }).toEqual({ writes: 1, syncs: 1 });
    for (let i = 0; i < 1000; i++) journal.append(play(`r-${i}`));
    await journal.flush();
    expect({ writes: disk.writes(), syncs: disk.syncs() }).toEqual({ writes: 2, syncs: 2 });
    await journal.close();
    expect((await readJournal(dir)).histories).toHaveLength(1000);
  });

  it('tells onCommit of each group commit once it is synced: its events (not tombstones), bytes and sync time', async () => {
    const commits: { events: number; bytes: number; syncSeconds: number }[] = [];
    const { journal } = await FileJournal.open(dir, { onCommit: (commit) => commits.push(commit) });
    for (let i = 0; i < 3; i++) journal.append(created(`r-${i}`));
    journal.append(play('r-0'));
    await journal.flush();
    await journal.remove('r-1');
    await journal.close();
    expect(commits.map(({ events }) => events)).toEqual([4, 0]);
    const [first, tombstone] = commits;
    expect(first!.bytes).toBe([created('r-0'), created('r-1'), created('r-2'), play('r-0')].reduce((sum, e) => sum + Buffer.byteLength(recordLine(json(e))), 0));
    expect(tombstone!.bytes).toBeGreaterThan(0);
    for (const { syncSeconds } of commits) expect(syncSeconds).toBeGreaterThanOrEqual(0);
  });

  it('keeps a commit whose observer throws: the lines are on disk, the failure is a warning', async () => {
    const warnings: string[] = [];
    const { journal } = await FileJournal.open(dir, {
      warn: (message) => warnings.push(message),
      onCommit: () => {
        throw new Error('observer bug');
      },
    });
    journal.append(created('r-1'));
    await expect(journal.flush()).resolves.toBeUndefined();
    await journal.close();
    expect(warnings).toEqual(["the journal's commit observer failed: observer bug"]);
    expect((await readJournal(dir)).histories).toEqual([[created('r-1')]]);
  });

  it('makes appended events durable only on flush', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    expect((await readJournal(dir)).histories).toEqual([]);
    await journal.flush();
    expect((await readJournal(dir)).histories).toEqual([[created('r-1')]]);
    await journal.close();
  });

  it('runs one flush at a time: what is appended while one syncs goes in the next, shared by every flush() meanwhile', async () => {
    const fdatasync = fs.fdatasync;
    const { journal } = await FileJournal.open(dir, { inlineSyncBytes: 0 }); // every sync in the thread pool
    const disk = await countDiskCalls();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (error: Error | null) => void) => void held.then(() => fdatasync(fd, done))) as typeof fs.fdatasync);

    journal.append(created('r-1'));
    const first = journal.flush();
    await vi.waitFor(() => expect(disk.syncs()).toBe(1)); // the first flush is syncing
    journal.append(play('r-1'));
    const second = journal.flush();
    expect(journal.flush()).toBe(second);
    await new Promise((r) => setTimeout(r, 20));
    expect(disk.writes()).toBe(1); // nothing is written while a flush is in flight
    release();
    await Promise.all([first, second]);
    expect({ writes: disk.writes(), syncs: disk.syncs() }).toEqual({ writes: 2, syncs: 2 });
    expect(linesOf('journal-00000001.log').slice(1)).toEqual([json(created('r-1')), json(play('r-1'))]);
    await journal.close();
  });

  it('leaves no partial line when a write fails, and writes those events with the next flush', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    await journal.flush();
    const writeSync = fs.writeSync;
    vi.spyOn(fs, 'writeSync').mockImplementationOnce(((fd: number, data: Buffer, offset: number, _length: number, position: number): number => {
      writeSync(fd, data, offset, 10, position); // the disk filled up mid-write
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }) as typeof fs.writeSync);
    journal.append(play('r-1'));
    await expect(journal.flush()).rejects.toThrow(/ENOSPC/);
    journal.append(play('r-1', 3));
    await journal.flush();
    await journal.close();
    const { replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([]);
    expect(replayed.histories).toEqual([[created('r-1'), play('r-1'), play('r-1', 3)]]);
  });
});

describe('FileJournal: space written ahead, and syncs', () => {
  const log = () => path.join(dir, 'journal-00000001.log');

  it('fills space with zeros ahead of the lines, so a small flush writes into the file without growing it', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    await journal.flush();
    const size = fs.statSync(log()).size;
    expect(size).toBeGreaterThanOrEqual(1024 * 1024); // a mebibyte ahead: blocks that exist, no metadata to sync
    for (let seq = 2; seq < 50; seq++) {
      journal.append(play('r-1', seq));
      await journal.flush();
    }
    expect(fs.statSync(log()).size).toBe(size);
    await journal.close();
    expect(fs.statSync(log()).size).toBeLessThan(size); // closed: the zeros are cut off
  });

  it('replays a log that ends in zeros (the engine died with space written ahead), and appends where the lines end', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    await journal.flush();
    const files = copyDir(); // as a crash leaves it: the lines, then zeros
    await journal.close();
    const copy = restoreInto(files);
    expect(fs.readFileSync(path.join(copy, 'journal-00000001.log')).at(-1)).toBe(0);
    const reopened = await FileJournal.open(copy);
    expect(reopened.replayed).toEqual({ histories: [[created('r-1')]], warnings: [], damaged: [] });
    reopened.journal.append(play('r-1'));
    await reopened.journal.close();
    expect(await readJournal(copy)).toEqual({ histories: [[created('r-1'), play('r-1')]], warnings: [], damaged: [] });
  });

  it('drops a line torn in the space written ahead (the engine died mid-write)', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    await journal.flush();
    const files = copyDir();
    await journal.close();
    const copy = restoreInto(files);
    const file = path.join(copy, 'journal-00000001.log');
    const text = fs.readFileSync(file);
    const end = text.indexOf(0);
    text.write(recordLine(json(play('r-1'))).slice(0, 30), end); // half a line, then zeros
    fs.writeFileSync(file, text);
    const reopened = await FileJournal.open(copy);
    expect(reopened.replayed.histories).toEqual([[created('r-1')]]);
    expect(reopened.replayed.warnings).toEqual([expect.stringMatching(/journal-00000001\.log line 3: dropped a torn last record \(30 bytes written when the engine stopped\)/)]);
    expect(reopened.replayed.damaged).toEqual([]); // never acknowledged: nothing was lost
    expect(fs.readdirSync(copy).filter((n) => n.includes('.damaged-'))).toEqual([]);
    await reopened.journal.close();
  });

  it('syncs a small commit on the event loop and a large one in the thread pool', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-0'));
    await journal.flush(); // the space ahead is written (and synced in the thread pool) once
    const inline = vi.spyOn(fs, 'fdatasyncSync');
    const pooled = vi.spyOn(fs, 'fdatasync');
    journal.append(play('r-0'));
    await journal.flush();
    expect([inline.mock.calls.length, pooled.mock.calls.length]).toEqual([1, 0]);
    for (let i = 1; i < 200; i++) journal.append(created(`r-${i}`)); // > 16 KiB
    await journal.flush();
    expect([inline.mock.calls.length, pooled.mock.calls.length]).toEqual([1, 1]);
    await journal.close();
  });
});

describe('FileJournal: replay of a damaged log', () => {
  /** A segment of `records` (JSON texts), each on its line with its CRC. */
  const write = (name: string, records: string[]) => fs.writeFileSync(path.join(dir, name), records.map(recordLine).join(''));

  it('drops a torn last line, says where, and appends cleanly after it', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    await journal.close();
    const good = fs.statSync(path.join(dir, 'journal-00000001.log')).size;
    fs.appendFileSync(path.join(dir, 'journal-00000001.log'), recordLine(json(play('r-1'))).slice(0, 40)); // the engine died mid-write

    const reopened = await FileJournal.open(dir);
    expect(reopened.replayed.histories).toEqual([[created('r-1')]]);
    expect(reopened.replayed.warnings).toEqual(['journal-00000001.log line 3: dropped a torn last record (40 bytes written when the engine stopped)']);
    expect(fs.statSync(path.join(dir, 'journal-00000001.log')).size).toBe(good);
    reopened.journal.append(play('r-1'));
    await reopened.journal.close();
    const again = await FileJournal.open(dir);
    expect(again.replayed.warnings).toEqual([]);
    expect(again.replayed.histories).toEqual([[created('r-1'), play('r-1')]]);
    await again.journal.close();
  });

  it('skips a line that checks but is not JSON, naming file and line; the run keeps its events on both sides of the gap', async () => {
    write('journal-00000001.log', [json(created('r-1')), json(created('r-2')), '{"not an event"', json(play('r-1', 3)), json(play('r-2'))]);
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([
      'journal-00000001.log line 3: skipped a line that checks but cannot be used (not JSON)',
      'journal-00000001.log line 4: run r-1 is missing seq 2 (it jumps from seq 1 to 3); kept its events on both sides',
    ]);
    expect(byRun(replayed.histories)).toEqual({ 'r-1': [created('r-1'), play('r-1', 3)], 'r-2': [created('r-2'), play('r-2')] });
    expect(replayed.damaged).toEqual([
      { runId: 'r-1', lost: [{ from: 2, to: 2 }], dropped: false, message: expect.stringMatching(/^run r-1 is missing seq 2: it is restored from its other 2 events/) },
    ]);
    await journal.close();
  });

  it('names what is wrong with a line that is JSON but not an event', async () => {
    write('journal-00000001.log', [json(created('r-1')), JSON.stringify({ ...play('r-1'), seq: 'two' }), JSON.stringify({ journal: 'shred' })]);
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([
      'journal-00000001.log line 2: skipped a line that checks but cannot be used (not a run event (seq: Invalid input: expected number, received string))',
      expect.stringMatching(/^journal-00000001\.log line 3: skipped a line that checks but cannot be used \(not a journal record \(journal: /),
    ]);
    await journal.close();
  });

  it('keeps the events on both sides of a gap in seq, names the run and the missing seqs, and lets the run continue', async () => {
    write('journal-00000001.log', [json(created('r-1')), json(play('r-1')), json(play('r-1', 5)), json(play('r-1', 6))]);
    const first = await FileJournal.open(dir);
    expect(first.replayed.warnings).toEqual(['journal-00000001.log line 3: run r-1 is missing seqs 3–4 (it jumps from seq 2 to 5); kept its events on both sides']);
    expect(first.replayed.histories).toEqual([[created('r-1'), play('r-1'), play('r-1', 5), play('r-1', 6)]]);
    expect(first.replayed.damaged).toEqual([
      { runId: 'r-1', lost: [{ from: 3, to: 4 }], dropped: false, message: 'run r-1 is missing seqs 3–4: it is restored from its other 4 events (up to seq 6); check it before resuming it' },
    ]);
    // The engine carries on from seq 6.
    first.journal.append(play('r-1', 7));
    await first.journal.close();
    const second = await FileJournal.open(dir);
    expect(second.replayed.histories).toEqual([[created('r-1'), play('r-1'), play('r-1', 5), play('r-1', 6), play('r-1', 7)]]);
    await second.journal.close();
  });

  it('ignores a history that does not start with run.created', async () => {
    write('journal-00000001.log', [json(play('r-1')), json(play('r-1', 3)), json(created('r-2'))]);
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual(['journal-00000001.log line 1: run r-1 does not start with run.created (its first line is action.accepted, seq 2); ignored its events']);
    expect(replayed.histories).toEqual([[created('r-2')]]);
    await journal.close();
  });

  it('says nothing of a forgotten run whose first lines a compaction already dropped', async () => {
    // What a compaction leaves of a run forgotten before it ran: its lines in newer segments, then its tombstone.
    write('journal-00000001.log', [json(play('r-1', 7)), json(created('r-2')), '{"journal":"forget","runId":"r-1"}']);
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([]);
    expect(replayed.damaged).toEqual([]);
    expect(replayed.histories).toEqual([[created('r-2')]]);
    await journal.close();
  });
});

describe('FileJournal: forgetting runs', () => {
  it('never brings a forgotten run back, and lets a run be created again with its id', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    journal.append(play('r-1'));
    journal.append(created('r-2'));
    await journal.flush();
    await journal.remove('r-1');
    // Durable once remove() resolves: a crash now would not bring it back.
    expect(byRun((await readJournal(dir)).histories)).toEqual({ 'r-2': [created('r-2')] });

    const again = created('r-1', '2026-11-25T08:00:00.000Z');
    journal.append(again);
    await journal.close();
    const { journal: reopened, replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([]);
    expect(byRun(replayed.histories)).toEqual({ 'r-1': [again], 'r-2': [created('r-2')] });
    await reopened.close();
  });

  it('keeps a tombstone the disk refused for the next flush, warning instead of failing the caller', async () => {
    const warnings: string[] = [];
    const { journal } = await FileJournal.open(dir, { warn: (w) => warnings.push(w) });
    journal.append(created('r-1'));
    await journal.flush();
    vi.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    await journal.remove('r-1');
    expect(warnings).toEqual(['could not yet write that run r-1 is forgotten (it is kept for the next flush): ENOSPC: no space left on device']);
    expect((await readJournal(dir)).histories).toEqual([[created('r-1')]]);
    journal.append(created('r-2'));
    await journal.flush();
    expect((await readJournal(dir)).histories).toEqual([[created('r-2')]]);
    await journal.close();
  });

  it('starts from a clean log: on open, forgotten runs and tombstones are compacted away', async () => {
    const { journal } = await FileJournal.open(dir);
    for (let i = 0; i < 20; i++) journal.append(created(`r-${i}`));
    await journal.flush();
    for (let i = 0; i < 19; i++) await journal.remove(`r-${i}`);
    await journal.close();

    const { journal: reopened, replayed } = await FileJournal.open(dir);
    expect(replayed.histories).toEqual([[created('r-19')]]);
    expect(logFiles()).toEqual(['journal-00000001.log']);
    const [header, ...rest] = linesOf('journal-00000001.log');
    expect(header).toBe('{"journal":"snapshot"}');
    expect(rest.map((line) => JSON.parse(line) as unknown)).toEqual([created('r-19')]);
    await reopened.close();
  });
});

describe('FileJournal: bounded disk', () => {
  it('rolls to a new segment past segmentBytes, and replays across segments', async () => {
    const { journal } = await FileJournal.open(dir, { segmentBytes: 600 });
    const expected: Record<string, RunEvent[]> = {};
    for (let i = 0; i < 6; i++) {
      const runId = `r-${i % 3}`;
      const event = i < 3 ? created(runId) : play(runId);
      (expected[runId] ??= []).push(event);
      journal.append(event);
      await journal.flush();
    }
    expect(logFiles().length).toBeGreaterThanOrEqual(3);
    expect(logFiles().every((n) => /^journal-\d{8}\.log$/.test(n))).toBe(true);
    expect(byRun((await readJournal(dir)).histories)).toEqual(expected);
    await journal.close();
    // Several segments are a reason to compact on open: the next start begins with one.
    const { journal: reopened, replayed } = await FileJournal.open(dir);
    expect(byRun(replayed.histories)).toEqual(expected);
    expect(logFiles()).toHaveLength(1);
    await reopened.close();
  });

  it('reclaims the space of forgotten runs while running, keeping a run that lives in the oldest segment', async () => {
    const warnings: string[] = [];
    const { journal } = await FileJournal.open(dir, { segmentBytes: 4096, warn: (w) => warnings.push(w) });
    journal.append(created('keeper'));
    await journal.flush();
    let written = 0;
    for (let i = 0; i < 300; i++) {
      journal.append(created(`r-${i}`));
      journal.append(play(`r-${i}`));
      await journal.flush();
      await journal.remove(`r-${i}`);
      written += json(created(`r-${i}`)).length + json(play(`r-${i}`)).length;
    }
    journal.append(play('keeper'));
    await journal.flush();
    await journal.idle();

    expect(written).toBeGreaterThan(150_000);
    expect(dirBytes()).toBeLessThan(6 * 4096); // a few segments' worth, zeros written ahead of the newest included
    expect(logFiles()).not.toContain('journal-00000001.log'); // the keeper's first segment went: its lines were copied
    expect(warnings).toEqual([]);
    expect(byRun((await readJournal(dir)).histories)).toEqual({ keeper: [created('keeper'), play('keeper')] });
    await journal.close();
  });

  it('keeps what is appended and forgotten while a compaction runs', async () => {
    const { journal } = await FileJournal.open(dir, { segmentBytes: 2048 });
    for (let i = 0; i < 8; i++) {
      journal.append(created(`r-${i}`));
      await journal.flush();
    }
    for (let i = 0; i < 6; i++) await journal.remove(`r-${i}`);
    // Both lives of `twice` are in the segments compacted, the first next to a live run's line.
    journal.append(created('twice'));
    journal.append(created('r-8'));
    await journal.flush();
    await journal.remove('twice');
    const secondLife = created('twice', '2026-11-24T12:00:00.000Z');
    journal.append(secondLife);
    await journal.flush();
    // Push the dead bytes past a segment's worth: the flush that seals this segment starts a compaction.
    await churnUntilCompacting(journal);
    // Meanwhile: r-6 goes on, r-7 (being copied) is forgotten, r-0 (already dead) is created again.
    journal.append(play('r-6'));
    await journal.remove('r-7');
    const again = created('r-0', '2026-11-25T08:00:00.000Z');
    journal.append(again);
    await journal.flush();
    await journal.idle();

    const expected = { 'r-6': [created('r-6'), play('r-6')], 'r-0': [again], 'r-8': [created('r-8')], twice: [secondLife] };
    expect(byRun((await readJournal(dir)).histories)).toEqual(expected);
    expect(linesOf(logFiles()[0]!)[0]).toBe('{"journal":"snapshot"}');
    await journal.close();
    const { journal: reopened, replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([]);
    expect(byRun(replayed.histories)).toEqual(expected);
    await reopened.close();
  });
});

/** Create and forget runs until a flush starts a compaction (idle() then does not resolve within a turn of the event loop). */
async function churnUntilCompacting(journal: FileJournal): Promise<void> {
  const compacting = () => Promise.race([journal.idle().then(() => false), new Promise<boolean>((r) => setImmediate(() => r(true)))]);
  for (let i = 0; !(await compacting()); i++) {
    if (i === 1000) throw new Error('no compaction started');
    journal.append(created(`x-${i}`));
    await journal.flush();
    await journal.remove(`x-${i}`);
  }
}

describe('FileJournal: a crash at any step of rolling or compacting', () => {
  /**
   * A journal whose flush just started a compaction; the directory as it was then (before the snapshot was renamed
   * into place), and as it is after. On a loaded machine the compaction can get as far as the rename before the
   * test looks: then it starts over in a fresh directory.
   */
  async function compactionLeftovers() {
    for (let attempt = 1; ; attempt++) {
      const leftovers = await compactionLeftoversOnce();
      const renamedAlready = ![...leftovers.after].some(([name, data]) => !leftovers.before.get(name)?.equals(data));
      if (!renamedAlready) return leftovers;
      if (attempt === 5) throw new Error('the compaction always renamed its snapshot before the test could look');
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
    }
  }

  async function compactionLeftoversOnce() {
    const { journal } = await FileJournal.open(dir, { segmentBytes: 2048 });
    for (let i = 0; i < 6; i++) {
      journal.append(created(`r-${i}`));
      journal.append(play(`r-${i}`));
      await journal.flush();
    }
    await churnUntilCompacting(journal);
    const before = copyDir(); // read synchronously: the compaction cannot have renamed its file yet
    await journal.idle();
    const after = copyDir();
    await journal.close();
    const expected = byRun((await readJournal(dir)).histories);
    expect(Object.keys(expected).sort()).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    return { before, after, expected };
  }

  async function replayFrom(files: Map<string, Buffer>) {
    const crashed = restoreInto(files);
    try {
      const { journal, replayed } = await FileJournal.open(crashed);
      await journal.close();
      return { histories: byRun(replayed.histories), warnings: replayed.warnings, files: logFiles(crashed) };
    } finally {
      fs.rmSync(crashed, { recursive: true, force: true });
    }
  }

  it('before the snapshot was renamed into place: its temp file is ignored and deleted', async () => {
    const { before, after, expected } = await compactionLeftovers();
    const snapshot = [...after].find(([name]) => !before.has(name) || !before.get(name)!.equals(after.get(name)!))!;
    const leftovers = new Map(before);
    leftovers.set(`${snapshot[0]}.tmp`, snapshot[1].subarray(0, snapshot[1].length >> 1)); // half written
    const replay = await replayFrom(leftovers);
    expect(replay.histories).toEqual(expected);
    expect(replay.warnings).toEqual([]);
    expect(replay.files).toEqual([expect.stringMatching(/^journal-\d{8}\.log$/)]); // one segment, no temp file
  });

  it('after the rename, before the replaced segments were deleted: they are ignored and deleted', async () => {
    const { before, after, expected } = await compactionLeftovers();
    const leftovers = new Map([...before].filter(([name]) => !name.endsWith('.tmp')));
    for (const [name, data] of after) leftovers.set(name, data); // the snapshot over the newest it replaces
    expect(leftovers.size).toBeGreaterThan(after.size);
    const replay = await replayFrom(leftovers);
    expect(replay.histories).toEqual(expected);
    expect(replay.warnings).toEqual([]);
    expect(replay.files).toHaveLength(1);
  });

  it('after deleting some of the replaced segments', async () => {
    const { before, after, expected } = await compactionLeftovers();
    const replaced = [...before.keys()].filter((name) => !after.has(name) && !name.endsWith('.tmp'));
    expect(replaced.length).toBeGreaterThan(1);
    const leftovers = new Map(after);
    leftovers.set(replaced.at(-1)!, before.get(replaced.at(-1)!)!);
    expect((await replayFrom(leftovers)).histories).toEqual(expected);
  });

  it('after a new segment was created, before anything was written to it', async () => {
    const { after, expected } = await compactionLeftovers();
    const newest = [...after.keys()].sort().at(-1)!;
    const next = `journal-${String(Number(newest.slice(8, 16)) + 1).padStart(8, '0')}.log`;
    const replay = await replayFrom(new Map([...after, [next, Buffer.alloc(0)]]));
    expect(replay.histories).toEqual(expected);
    expect(replay.warnings).toEqual([]);
  });

  it('while open rewrote the log: the same leftovers, the same histories', async () => {
    const { after, expected } = await compactionLeftovers();
    expect(after.size).toBeGreaterThan(1);
    // open() rewrites a log of several segments over its newest one, then deletes the others.
    const newest = [...after.keys()].sort().at(-1)!;
    const { journal } = await FileJournal.open(dir); // dir holds `after`
    const rewritten = fs.readFileSync(path.join(dir, newest));
    await journal.close();
    expect((await replayFrom(new Map([...after, [newest, rewritten]]))).histories).toEqual(expected);
  });
});

describe('FileJournal: the per-run files of earlier engines', () => {
  const legacy = (runId: string, lines: string[], end = '\n') => fs.writeFileSync(path.join(dir, `${encodeURIComponent(runId)}.jsonl`), lines.join('\n') + end);

  it('replays them as before, then moves them into the log', async () => {
    legacy('r-1', [json(created('r-1')), json(play('r-1'))]);
    legacy('r 2%', [json(created('r 2%')), json(play('r 2%'))], '\n' + json(play('r 2%', 3)).slice(0, 30)); // torn
    legacy('r-3', [json(created('r-3')), '{"not an event"', json(play('r-3', 3))]);
    legacy('r-4', [json(play('r-4'))]);

    const { journal, replayed } = await FileJournal.open(dir);
    expect(byRun(replayed.histories)).toEqual({ 'r-1': [created('r-1'), play('r-1')], 'r 2%': [created('r 2%'), play('r 2%')], 'r-3': [created('r-3')] });
    expect(replayed.warnings).toEqual([
      'r%202%25.jsonl: dropped a torn last line (30 bytes written when the engine stopped)',
      'r-3.jsonl: stopped reading at a corrupt line 2; kept the 1 events before it',
      'r-4.jsonl: no run.created event; ignored',
      'moved 3 runs from 4 per-run files (<run id>.jsonl) into journal-00000001.log',
    ]);
    expect(logFiles()).toEqual(['journal-00000001.log']);
    journal.append(play('r-3'));
    await journal.close();

    const again = await FileJournal.open(dir);
    expect(again.replayed.warnings).toEqual([]);
    expect(byRun(again.replayed.histories)['r-3']).toEqual([created('r-3'), play('r-3')]);
    await again.journal.close();
  });

  it('deletes per-run files left by a migration that stopped after the log was written', async () => {
    legacy('r-1', [json(created('r-1'))]);
    const { journal } = await FileJournal.open(dir);
    await journal.close();
    legacy('r-1', [json(created('r-1'))]); // as if the engine died before deleting it

    const { journal: reopened, replayed } = await FileJournal.open(dir);
    expect(replayed.histories).toEqual([[created('r-1')]]);
    expect(replayed.warnings).toEqual(['deleted 1 per-run files (<run id>.jsonl) already moved into the journal']);
    expect(logFiles()).toEqual(['journal-00000001.log']);
    await reopened.close();
  });

  it('migrates again when the migration stopped before the log was in place', async () => {
    legacy('r-1', [json(created('r-1'))]);
    fs.writeFileSync(path.join(dir, 'journal-00000001.log.tmp'), '{"journal":"snapshot"}\n{"type":"run.cr');
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.histories).toEqual([[created('r-1')]]);
    expect(logFiles()).toEqual(['journal-00000001.log']);
    await journal.close();
  });
});

describe('readJournal', () => {
  it('replays without changing anything on disk', async () => {
    const records = [json(created('r-1')), json(created('r-2')), '{"journal":"forget","runId":"r-2"}'];
    fs.writeFileSync(path.join(dir, 'journal-00000001.log'), `${records.map(recordLine).join('')}{"torn`);
    fs.writeFileSync(path.join(dir, 'journal-00000002.log'), '');
    const before = copyDir();
    const replayed = await readJournal(dir);
    expect(replayed.histories).toEqual([[created('r-1')]]);
    expect(replayed.warnings).toEqual([expect.stringMatching(/^journal-00000001\.log bytes \d+–\d+ \(from line 4\): skipped 6 damaged bytes \(a record cut short\)/)]);
    expect(copyDir()).toEqual(before);
  });
});
