// The notify state on a real full disk (a 64 KiB tmpfs; mounting needs root).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@labrun/service';
import { fillDisk, mountTmpfs, unmount } from '@labrun/testkit';
import { NotifyState } from './state-file.js';

const notification = (seq: number) => ({
  runId: 'r-1',
  name: 'Serial dilution',
  deviceId: 'sim-1',
  status: 'paused' as const,
  message: 'Check the samples',
  seq,
  at: '2026-12-05T10:00:00.000Z',
  link: 'http://127.0.0.1:8080/#run=r-1',
  text: 'Run Serial dilution (r-1) on sim-1 is paused: Check the samples',
});

describe('the notify state on a full disk', () => {
  let disk: string | null;
  beforeAll(() => {
    disk = mountTmpfs('64k');
  });
  afterAll(() => {
    if (disk) unmount(disk);
  });

  it('a failed save leaves the last state whole and no temporary file; the next save writes it once there is room, with no new change', async (context) => {
    if (!disk) return context.skip();
    const file = path.join(disk, 'notify-state.json');
    const log = createLogger('notify', 'error');
    const state = NotifyState.open(file, log);
    state.record('r-1:1', notification(1), 'paused|Check the samples', ['webhook-1']);
    await state.save();
    const saved = fs.readFileSync(file, 'utf8');

    state.update('r-1:1', 'webhook-1', { state: 'sent', attempts: 1 });
    const filler = fillDisk(disk);
    await expect(state.save()).rejects.toThrow(/ENOSPC/);
    expect(fs.readFileSync(file, 'utf8')).toBe(saved);
    expect(fs.readdirSync(disk).sort()).toEqual(['filler', 'notify-state.json']);

    fs.rmSync(filler);
    await state.save(); // nothing changed since the failed one: what it could not write is written now
    expect(NotifyState.open(file, log).get('r-1:1')!.deliveries['webhook-1']).toMatchObject({ state: 'sent', attempts: 1 });
  });
});
