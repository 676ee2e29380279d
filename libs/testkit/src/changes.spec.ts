import { describe, expect, it } from 'vitest';
import { Changes } from './changes.js';

describe('Changes.until', () => {
  it('resolves with what is there already, or with the first value after a change', async () => {
    const changes = new Changes();
    const items: string[] = ['a'];
    expect(
      await changes.until(
        () => items.find((i) => i === 'a'),
        100,
        () => 'no a',
      ),
    ).toBe('a');
    const waiting = changes.until(
      () => items.find((i) => i === 'b'),
      1000,
      () => 'no b',
    );
    items.push('b');
    changes.notify();
    expect(await waiting).toBe('b');
  });

  it('rejects at once when the probe throws, and with the timeout message when nothing comes', async () => {
    const changes = new Changes();
    await expect(
      changes.until(
        () => {
          throw new Error('exited');
        },
        1000,
        () => 'late',
      ),
    ).rejects.toThrow('exited');
    await expect(
      changes.until(
        () => undefined,
        20,
        () => 'nothing within 20 ms',
      ),
    ).rejects.toThrow('nothing within 20 ms');
  });
});
