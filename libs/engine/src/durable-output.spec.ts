import { describe, expect, it } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import { durableOutput } from './durable-output.js';
import { statusOf } from './fixtures.spec-helpers.js';

describe('durableOutput', () => {
  it('publishes nothing until the journal has synced, then everything in order', async () => {
    const delivered: string[] = [];
    const appended: number[] = [];
    let sync!: () => void;
    const log = { append: (e: RunEvent) => void appended.push(e.seq), flush: () => new Promise<void>((r) => (sync = r)) };
    const output = durableOutput({ event: (e) => delivered.push(`event ${e.seq}`), status: (s: RunStatusDocument) => delivered.push(`status ${s.seq}`) }, log, () => {});
    const event = { type: 'command.succeeded', runId: 'r-1', seq: 7, at: '2026-11-24T10:00:00.000Z', index: 0 } as RunEvent;
    output.event(event);
    output.status(statusOf(7));
    output.event({ type: 'action.rejected', runId: 'nope', seq: 0, at: event.at, actionId: 'a', action: 'resume', code: 'unknown-run', message: '' });
    await new Promise((r) => setImmediate(r));
    expect(appended).toEqual([7]); // a seq-0 answer belongs to no run's history
    expect(delivered).toEqual([]);
    sync();
    await output.drained();
    expect(delivered).toEqual(['event 7', 'status 7', 'event 0']);
  });

  it('still publishes (and reports the error) when the disk refuses the write', async () => {
    const errors: string[] = [];
    const delivered: number[] = [];
    const output = durableOutput({ event: (e) => delivered.push(e.seq), status: () => {} }, { append: () => {}, flush: async () => { throw new Error('ENOSPC: no space left on device'); } }, (e) => errors.push(e.message));
    output.event({ type: 'command.succeeded', runId: 'r-1', seq: 1, at: '2026-11-24T10:00:00.000Z', index: 0 } as RunEvent);
    await output.drained();
    expect(delivered).toEqual([1]);
    expect(errors).toEqual(['ENOSPC: no space left on device']);
  });

  it('serialises each event once: the journal and the message get the same JSON text', async () => {
    const journaled: string[] = [];
    const published: Array<string | undefined> = [];
    const output = durableOutput({ event: (_e, json) => published.push(json), status: () => {} }, { append: (_e, json) => void journaled.push(json), flush: async () => {} }, () => {});
    const event = { type: 'command.succeeded', runId: 'r-1', seq: 3, at: '2026-11-24T10:00:00.000Z', index: 0 } as RunEvent;
    output.event(event);
    await output.drained();
    expect(journaled).toEqual([JSON.stringify(event)]);
    expect(published[0]).toBe(journaled[0]);
  });
});
