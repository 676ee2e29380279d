import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '@labrun/contracts';
import { FileJournal } from './journal.js';
import { protocol } from './fixtures.spec-helpers.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-journal-'));
});

const created = (runId: string): RunEvent => ({ type: 'run.created', runId, seq: 1, at: '2026-11-24T10:00:00.000Z', deviceId: 'sim-1', protocol });
const play = (runId: string, seq = 2): RunEvent => ({ type: 'action.accepted', runId, seq, at: '2026-11-24T10:00:01.000Z', actionId: `a-${seq}`, action: 'play', by: null, message: null, mode: null });

describe('FileJournal', () => {
  it('replays what was flushed: each run\'s events in order', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    journal.append(created('r 2%ä'));
    journal.append(play('r-1'));
    await journal.flush();
    await journal.close();
    const { replayed } = await FileJournal.open(dir);
    expect(replayed.warnings).toEqual([]);
    const runs = replayed.histories.map((h) => h.map((e) => `${e.runId}:${e.type}`)).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    expect(runs).toEqual([['r 2%ä:run.created'], ['r-1:run.created', 'r-1:action.accepted']]); // an id with spaces, % or non-ASCII is still a safe file name
  });

  it('tolerates a torn last line: drops it, says so, and appends cleanly after it', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    await journal.close();
    const file = path.join(dir, 'r-1.jsonl');
    fs.appendFileSync(file, JSON.stringify(play('r-1')).slice(0, 40)); // the engine died mid-write
    const reopened = await FileJournal.open(dir);
    expect(reopened.replayed.histories[0]).toHaveLength(1);
    expect(reopened.replayed.warnings[0]).toMatch(/r-1\.jsonl: dropped a torn last line/);
    reopened.journal.append(play('r-1'));
    await reopened.journal.close();
    const again = await FileJournal.open(dir);
    expect(again.replayed.warnings).toEqual([]);
    expect(again.replayed.histories[0]!.map((e) => e.type)).toEqual(['run.created', 'action.accepted']);
  });

  it('keeps the events before a corrupt line, and reports it', async () => {
    fs.writeFileSync(path.join(dir, 'r-1.jsonl'), [JSON.stringify(created('r-1')), '{"not an event"', JSON.stringify(play('r-1', 3))].join('\n') + '\n');
    const { replayed } = await FileJournal.open(dir);
    expect(replayed.histories[0]).toHaveLength(1);
    expect(replayed.warnings[0]).toMatch(/corrupt line 2; kept the 1 events before it/);
  });

  it('makes appended events durable only on flush, and removes a run', async () => {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('r-1'));
    expect(fs.existsSync(path.join(dir, 'r-1.jsonl'))).toBe(false);
    await journal.flush();
    expect(fs.readFileSync(path.join(dir, 'r-1.jsonl'), 'utf8').split('\n')).toHaveLength(2);
    await journal.remove('r-1');
    expect(fs.existsSync(path.join(dir, 'r-1.jsonl'))).toBe(false);
    await journal.close();
  });
});
