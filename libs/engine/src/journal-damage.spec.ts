// The journal under damage: zeros over its start or its middle, a flipped bit, a torn last record, a clean stop,
// repeated seqs, and segments written before records had a CRC. Damage costs only the records it touches: every
// later record is kept, the runs it touched are named, and the damaged segment is kept aside for inspection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProtocolDocument, RunEvent } from '@labrun/contracts';
import { FileJournal, readJournal } from './journal.js';
import { recordLine, unwrapLine } from './journal-format.js';
import { protocol } from './fixtures.spec-helpers.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-journal-damage-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const SEGMENT = 'journal-00000001.log';
const segment = () => path.join(dir, SEGMENT);
const created = (runId: string, doc: ProtocolDocument = protocol): RunEvent => ({ type: 'run.created', runId, seq: 1, at: '2026-11-24T10:00:00.000Z', deviceId: 'sim-1', protocol: doc });
const play = (runId: string, seq: number): RunEvent => ({
  type: 'action.accepted',
  runId,
  seq,
  at: '2026-11-24T10:00:01.000Z',
  actionId: `a-${seq}`,
  action: 'play',
  by: null,
  message: null,
  mode: null,
});
const byRun = (histories: RunEvent[][]) => Object.fromEntries(histories.map((h) => [h[0]!.runId, h]));
const asideCopies = () => fs.readdirSync(dir).filter((n) => n.startsWith(`${SEGMENT}.damaged-`));

/** `runs` runs of `events` events each, interleaved as a busy engine writes them: every run.created first. */
function interleaved(runs: string[], events: number): RunEvent[] {
  const all: RunEvent[] = runs.map((runId) => created(runId));
  for (let seq = 2; seq <= events; seq++) for (const runId of runs) all.push(play(runId, seq));
  return all;
}

/** Write `events` with CRCs, as the journal does; returns where each record's line is. */
function writeRecords(events: RunEvent[], tail: Buffer = Buffer.alloc(0)): Array<{ event: RunEvent; from: number; to: number }> {
  let offset = 0;
  const placed = events.map((event) => {
    const line = Buffer.from(recordLine(JSON.stringify(event)));
    const at = { event, from: offset, to: offset + line.length };
    offset += line.length;
    return { ...at, line };
  });
  fs.writeFileSync(segment(), Buffer.concat([...placed.map((p) => p.line), tail]));
  return placed;
}

function zeroBytes(from: number, length: number): Buffer {
  const bytes = fs.readFileSync(segment());
  bytes.fill(0, from, from + length);
  fs.writeFileSync(segment(), bytes);
  return bytes;
}

/** What replay must give back when the bytes [from, to) are damaged: every record that does not touch them. */
function survivors(placed: Array<{ event: RunEvent; from: number; to: number }>, from: number, to: number) {
  const lost = placed.filter((p) => p.from < to && p.to > from).map((p) => p.event);
  const kept = placed.filter((p) => !(p.from < to && p.to > from)).map((p) => p.event);
  return { lost, kept };
}

describe('the journal under damage', () => {
  it('zeros over the first 4 KiB of a segment: says so, names every run that lost its start, keeps every later record and the segment', async () => {
    const early = ['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
    const events = [...interleaved(early, 12), ...interleaved(['r-6', 'r-7'], 4)];
    const placed = writeRecords(events);
    const damagedBytes = zeroBytes(0, 4096);
    const { lost } = survivors(placed, 0, 4096);
    expect(lost.filter((e) => e.type === 'run.created').map((e) => e.runId)).toEqual(early); // what the test is about

    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.warnings[0]).toMatch(
      /^journal-00000001\.log bytes 0–\d+ \(from line 1\): skipped \d+ damaged bytes \(4096 zero bytes, no CRC at the start of the line\) up to the next record that checks/,
    );
    // Without run.created a run cannot be rebuilt; each is named, with the seqs it lost.
    expect(replayed.damaged.map((d) => [d.runId, d.dropped, d.lost[0]!.from]).sort()).toEqual(early.map((runId) => [runId, true, 1]));
    expect(replayed.damaged.find((d) => d.runId === 'r-0')!.message).toMatch(/^run r-0 lost seqs 1–\d+ \(its run\.created\) and cannot be restored; its \d+ later events are ignored$/);
    // The runs after the damage are whole.
    expect(byRun(replayed.histories)).toEqual(byRun([interleaved(['r-6'], 4).filter((e) => e.runId === 'r-6'), interleaved(['r-7'], 4)]));
    // The damaged segment as it was is kept aside, byte for byte.
    expect(asideCopies()).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, asideCopies()[0]!))).toEqual(damagedBytes);
    expect(replayed.warnings).toContain(`kept a copy of the damaged ${SEGMENT} as ${asideCopies()[0]}`);
    await journal.close();

    // The log is not cut to nothing: the next start finds the same runs, and no damage.
    const again = await FileJournal.open(dir);
    expect(again.replayed.warnings).toEqual([]);
    expect(Object.keys(byRun(again.replayed.histories))).toEqual(['r-6', 'r-7']);
    await again.journal.close();
  });

  it('512 zero bytes in the middle: skips only the records they touch, keeps every record after them, names the runs and seqs lost', async () => {
    const runs = ['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
    // Space written ahead after the lines, as a running engine leaves it.
    const placed = writeRecords(interleaved(runs, 12), Buffer.alloc(64 * 1024));
    const end = placed.at(-1)!.to;
    const from = Math.floor(end / 2) + 17; // mid-record, so a line and its neighbour are hit
    zeroBytes(from, 512);
    const { lost, kept } = survivors(placed, from, from + 512);
    expect(lost.length).toBeGreaterThanOrEqual(3);
    expect(lost.every((e) => e.seq > 1 && e.seq < 12)).toBe(true); // the test's premise: the losses are mid-run

    const { journal, replayed } = await FileJournal.open(dir);
    expect(byRun(replayed.histories)).toEqual(byRun(runs.map((runId) => kept.filter((e) => e.runId === runId))));
    const lostByRun = new Map<string, number[]>();
    for (const e of lost) lostByRun.set(e.runId, [...(lostByRun.get(e.runId) ?? []), e.seq]);
    expect(replayed.damaged.map((d) => ({ runId: d.runId, dropped: d.dropped, seqs: d.lost.flatMap(({ from: a, to: b }) => Array.from({ length: b - a + 1 }, (_, i) => a + i)) }))).toEqual(
      [...lostByRun].map(([runId, seqs]) => ({ runId, dropped: false, seqs })),
    );
    expect(replayed.warnings[0]).toMatch(new RegExp(`^journal-00000001\\.log bytes \\d+–\\d+ \\(from line \\d+\\): skipped \\d+ damaged bytes \\(.*512 zero bytes.*\\)`));
    for (const runId of lostByRun.keys()) expect(replayed.warnings.some((w) => w.includes(`run ${runId} is missing seq`))).toBe(true);
    expect(asideCopies()).toHaveLength(1);
    await journal.close();
  });

  it('one flipped bit in a move target: the record fails its CRC, the run is not restored with x=14, and it is named', async () => {
    const target: ProtocolDocument = { schemaVersion: 1, metadata: { name: 'one move' }, commands: [{ type: 'move', params: { x: 15, y: 0, feed: 1000 } }] };
    writeRecords([created('r-move', target), created('r-other'), play('r-move', 2), play('r-other', 2)]);
    const bytes = fs.readFileSync(segment());
    const at = bytes.indexOf('"x":15') + 5;
    bytes[at] = bytes[at]! ^ 0x01; // '5' -> '4'
    fs.writeFileSync(segment(), bytes);
    expect(bytes.toString()).toContain('"x":14');

    const { journal, replayed } = await FileJournal.open(dir);
    expect(JSON.stringify(replayed.histories)).not.toContain('"x":14');
    expect(byRun(replayed.histories)).toEqual({ 'r-other': [created('r-other'), play('r-other', 2)] });
    expect(replayed.warnings[0]).toMatch(
      /^journal-00000001\.log bytes 0–\d+ \(from line 1\): skipped \d+ damaged bytes \(its CRC does not match\) up to the next record that checks; they name run r-move$/,
    );
    expect(replayed.damaged).toEqual([
      { runId: 'r-move', lost: [{ from: 1, to: 1 }], dropped: true, message: 'run r-move lost seq 1 (its run.created) and cannot be restored; its 1 later events are ignored' },
    ]);
    await journal.close();
  });

  it('a flipped bit in the last record is damage, not a torn write: the run is named and the segment kept aside', async () => {
    writeRecords([created('r-1'), play('r-1', 2), play('r-1', 3)]);
    const bytes = fs.readFileSync(segment());
    const at = bytes.lastIndexOf('"seq":3') + 6;
    bytes[at] = bytes[at]! ^ 0x02; // 3 -> 1
    fs.writeFileSync(segment(), bytes);
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.histories).toEqual([[created('r-1'), play('r-1', 2)]]);
    expect(replayed.warnings[0]).toMatch(
      /^journal-00000001\.log bytes \d+–\d+ \(from line 3\): skipped \d+ damaged bytes \(its CRC does not match\) up to the next record that checks; they name run r-1$/,
    );
    expect(replayed.damaged).toEqual([
      {
        runId: 'r-1',
        lost: [],
        dropped: false,
        message: 'run r-1 is named in damaged bytes after its seq 2: events after it may be lost; it is restored from its 2 events; check it before resuming it',
      },
    ]);
    expect(asideCopies()).toHaveLength(1);
    await journal.close();
  });

  it('never calls a clean stop torn, nor any amount of space written ahead', async () => {
    const { journal } = await FileJournal.open(dir);
    for (let i = 0; i < 6000; i++) journal.append(created(`r-${i}`)); // more than a read chunk of lines
    await journal.close();
    const clean = fs.readFileSync(segment());
    expect(clean.at(-1)).toBe(0x0a);
    for (const zeros of [0, 1, 4096, 3 * 1024 * 1024 + 5]) {
      fs.writeFileSync(segment(), Buffer.concat([clean, Buffer.alloc(zeros)]));
      const replayed = await readJournal(dir);
      expect({ zeros, warnings: replayed.warnings, damaged: replayed.damaged, runs: replayed.histories.length }).toEqual({ zeros, warnings: [], damaged: [], runs: 6000 });
    }
    const reopened = await FileJournal.open(dir);
    expect(reopened.replayed.warnings).toEqual([]);
    expect(asideCopies()).toEqual([]);
    await reopened.journal.close();
  });

  it('drops a torn last record (never acknowledged) quietly cut, keeps no copy, and names no run as damaged', async () => {
    const placed = writeRecords(interleaved(['r-1'], 3));
    fs.appendFileSync(segment(), Buffer.concat([Buffer.from(recordLine(JSON.stringify(play('r-1', 4))).slice(0, 50)), Buffer.alloc(4096)]));
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.histories).toEqual([interleaved(['r-1'], 3)]);
    expect(replayed.warnings).toEqual(['journal-00000001.log line 4: dropped a torn last record (50 bytes written when the engine stopped, of run r-1)']);
    expect(replayed.damaged).toEqual([]);
    expect(asideCopies()).toEqual([]);
    expect(fs.statSync(segment()).size).toBeGreaterThanOrEqual(placed.at(-1)!.to);
    await journal.close();
    expect(fs.statSync(segment()).size).toBe(placed.at(-1)!.to);
  });
});

describe('repeated and stale seqs', () => {
  // As engines before the fix wrote a repeated action id's answer: again, with its old seq, and without a CRC.
  const seqs = [1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 10, 11, 12];
  const event = (seq: number): RunEvent => (seq === 1 ? created('soak-35') : play('soak-35', seq));

  it('skips a repeat of seq 4 after seq 8, naming the run, and keeps all 12 events (journal of the old damaged shape)', async () => {
    fs.writeFileSync(segment(), seqs.map((seq) => `${JSON.stringify(event(seq))}\n`).join(''));
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.histories).toEqual([Array.from({ length: 12 }, (_, i) => event(i + 1))]);
    expect(replayed.warnings).toEqual([
      'journal-00000001.log line 9: run soak-35 repeats seq 4 (action.accepted) after seq 8; skipped the repeat, kept its later events',
      'rewrote 13 lines written without a CRC by an earlier engine with one',
    ]);
    expect(replayed.damaged).toEqual([]); // a repeat loses nothing
    await journal.close();
    // Rewritten once, with CRCs and without the repeat.
    const lines = fs.readFileSync(segment(), 'utf8').split('\n').slice(1, -1);
    const records = lines.map((line) => unwrapLine(Buffer.from(line)));
    expect(records.map((r) => r.kind)).toEqual(Array(12).fill('checked'));
    expect(records.map((r) => (r.kind === 'checked' ? (JSON.parse(r.text) as unknown) : null))).toEqual(Array.from({ length: 12 }, (_, i) => event(i + 1)));
    expect((await readJournal(dir)).warnings).toEqual([]);
  });

  it('skips a stale seq with a CRC the same way', async () => {
    writeRecords([1, 2, 3, 2, 1, 4].map(event));
    const replayed = await readJournal(dir);
    expect(replayed.histories).toEqual([[1, 2, 3, 4].map(event)]);
    expect(replayed.warnings).toEqual([
      'journal-00000001.log line 4: run soak-35 repeats seq 2 (action.accepted) after seq 3; skipped the repeat, kept its later events',
      'journal-00000001.log line 5: run soak-35 repeats seq 1 (run.created) after seq 3; skipped the repeat, kept its later events',
    ]);
  });
});

describe('segments written before records had a CRC', () => {
  it('are read as before and rewritten with a CRC on every line', async () => {
    fs.writeFileSync(segment(), ['{"journal":"snapshot"}', JSON.stringify(created('r-1')), JSON.stringify(play('r-1', 2))].map((l) => `${l}\n`).join(''));
    const { journal, replayed } = await FileJournal.open(dir);
    expect(replayed.histories).toEqual([[created('r-1'), play('r-1', 2)]]);
    expect(replayed.damaged).toEqual([]);
    journal.append(play('r-1', 3));
    await journal.close();
    const lines = fs.readFileSync(segment(), 'utf8').split('\n').slice(0, -1);
    expect(lines.map((line) => unwrapLine(Buffer.from(line)).kind)).toEqual(['checked', 'checked', 'checked', 'checked']);
    expect(await readJournal(dir)).toEqual({ histories: [[created('r-1'), play('r-1', 2), play('r-1', 3)]], warnings: [], damaged: [] });
  });
});

describe('compaction over damage', () => {
  it('does not copy past a damaged line: it stops, keeps the segments, and the next open reports the damage', async () => {
    const warnings: string[] = [];
    const { journal } = await FileJournal.open(dir, { segmentBytes: 4096, warn: (w) => warnings.push(w) });
    journal.append(created('keeper'));
    await journal.flush();
    // The disk flips a bit in a line the engine wrote and synced.
    const bytes = fs.readFileSync(segment());
    const at = bytes.indexOf('"feed":3000') + 8;
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(segment(), bytes);
    for (let i = 0; i < 100; i++) {
      journal.append(created(`r-${i}`));
      await journal.flush();
      await journal.remove(`r-${i}`);
    }
    await journal.idle();
    expect(warnings.some((w) => /^could not compact journal-00000001\.log.*: journal-00000001\.log is damaged at byte \d+$/.test(w))).toBe(true);
    expect(fs.existsSync(segment())).toBe(true);
    await journal.close();

    const { journal: reopened, replayed } = await FileJournal.open(dir);
    expect(replayed.damaged).toEqual([expect.objectContaining({ runId: 'keeper', dropped: true })]);
    expect(asideCopies()).toHaveLength(1);
    await reopened.close();
  });
});
