import { describe, expect, it } from 'vitest';
import { Inbox } from './inbox.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Inbox', () => {
  it('handles every item in order, a slice per turn of the event loop, so other work runs between slices', async () => {
    const log: string[] = [];
    const inbox = new Inbox<number>(
      (n) => {
        log.push(`item ${n}`);
        // What handling schedules (the engine's group commit) runs before the next slice.
        if (n % 3 === 2) setImmediate(() => log.push(`commit after ${n}`));
      },
      () => {},
      3,
    );
    for (let n = 0; n < 7; n++) inbox.push(n);
    expect(log).toEqual([]);
    while (inbox.size > 0) await turn();
    await turn();
    expect(log).toEqual(['item 0', 'item 1', 'item 2', 'commit after 2', 'item 3', 'item 4', 'item 5', 'commit after 5', 'item 6']);
  });

  it('reports an item whose handler throws and goes on with the rest', async () => {
    const handled: number[] = [];
    const errors: string[] = [];
    const inbox = new Inbox<number>(
      (n) => {
        if (n === 1) throw new Error('bug');
        handled.push(n);
      },
      (error, n) => errors.push(`${n}: ${(error as Error).message}`),
    );
    for (let n = 0; n < 3; n++) inbox.push(n);
    await turn();
    expect(handled).toEqual([0, 2]);
    expect(errors).toEqual(['1: bug']);
    inbox.push(3); // and it keeps taking new items
    await turn();
    expect(handled).toEqual([0, 2, 3]);
  });
});
