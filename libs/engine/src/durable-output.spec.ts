import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunEvent, RunStatusDocument } from '@labrun/contracts';
import { durableOutput } from './durable-output.js';
import { statusOf } from './fixtures.spec-helpers.js';

const quiet = { onUnwritable: () => {}, onWritable: () => {} };
const event = (seq: number) => ({ type: 'command.succeeded', runId: 'r-1', seq, at: '2026-11-24T10:00:00.000Z', index: 0 }) as RunEvent;

describe('durableOutput', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('publishes nothing until the journal has synced, then everything in order', async () => {
    const delivered: string[] = [];
    const appended: number[] = [];
    let sync!: () => void;
    const log = { append: (e: RunEvent) => void appended.push(e.seq), flush: () => new Promise<void>((r) => (sync = r)) };
    const output = durableOutput({ event: (e) => delivered.push(`event ${e.seq}`), status: (s: RunStatusDocument) => delivered.push(`status ${s.seq}`) }, log, quiet);
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

  it('publishes nothing the journal refused, retries, and delivers it all in order once the disk takes it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const said: string[] = [];
    const delivered: string[] = [];
    const written: number[] = [];
    let pending: number[] = [];
    let full = true;
    const log = {
      append: (e: RunEvent) => void pending.push(e.seq),
      flush: async () => {
        if (full) throw new Error('ENOSPC: no space left on device');
        written.push(...pending);
        pending = [];
      },
    };
    const output = durableOutput({ event: (e) => delivered.push(`event ${e.seq}`), status: (s: RunStatusDocument) => delivered.push(`status ${s.seq}`) }, log, {
      onUnwritable: (e) => said.push(`unwritable: ${e.message}`),
      onWritable: () => said.push('writable'),
      retryMs: 1000,
    });
    output.event(event(1));
    output.status(statusOf(1));
    await output.drained();
    expect(said).toEqual(['unwritable: ENOSPC: no space left on device']);
    expect(output.writable).toBe(false);
    // A motion that ends meanwhile: its event waits behind the first, not delivered either.
    output.event(event(2));
    // A refusal that belongs to no run's history goes out at once: it is what tells the sender why.
    output.event({ type: 'action.rejected', runId: 'r-1', seq: 0, at: event(0).at, actionId: 'a', action: 'resume', code: 'journal-unavailable', message: '' });
    await output.drained();
    await vi.advanceTimersByTimeAsync(3000);
    expect(delivered).toEqual(['event 0']);
    expect(written).toEqual([]);
    full = false;
    await vi.advanceTimersByTimeAsync(1000);
    await output.drained();
    expect(written).toEqual([1, 2]);
    expect(delivered).toEqual(['event 0', 'event 1', 'status 1', 'event 2']);
    expect(said).toEqual(['unwritable: ENOSPC: no space left on device', 'writable']);
    expect(output.writable).toBe(true);
    output.dispose();
  });

  it('answers a repeated action id again without writing it to the journal a second time', async () => {
    const appended: number[] = [];
    const delivered: number[] = [];
    const output = durableOutput({ event: (e) => delivered.push(e.seq), status: () => {} }, { append: (e) => void appended.push(e.seq), flush: async () => {} }, quiet);
    output.event(event(4));
    output.answerAgain!(event(4));
    await output.drained();
    expect(appended).toEqual([4]);
    expect(delivered).toEqual([4, 4]);
  });

  it('serialises each event once: the journal and the message get the same JSON text', async () => {
    const journaled: string[] = [];
    const published: Array<string | undefined> = [];
    const output = durableOutput({ event: (_e, json) => published.push(json), status: () => {} }, { append: (_e, json) => void journaled.push(json), flush: async () => {} }, quiet);
    const event = { type: 'command.succeeded', runId: 'r-1', seq: 3, at: '2026-11-24T10:00:00.000Z', index: 0 } as RunEvent;
    output.event(event);
    await output.drained();
    expect(journaled).toEqual([JSON.stringify(event)]);
    expect(published[0]).toBe(journaled[0]);
  });
});
