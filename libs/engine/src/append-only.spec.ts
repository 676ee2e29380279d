import { describe, expect, it } from 'vitest';
import { emptyMap, insert, lookup } from './append-only.js';

describe('AppendOnlyMap', () => {
  it('each version sees exactly the entries added before it, however later versions grow', () => {
    const v0 = emptyMap<string, number>();
    const v1 = insert(v0, 'a', 1);
    const v2 = insert(v1, 'b', 2);
    expect([lookup(v0, 'a'), lookup(v1, 'a'), lookup(v1, 'b'), lookup(v2, 'b')]).toEqual([undefined, 1, undefined, 2]);
    expect(v2.entries).toBe(v1.entries); // the newest version grows in place: no copy per insert
  });

  it("a branch from an older version copies, and neither branch sees the other's entries", () => {
    const v1 = insert(emptyMap<string, number>(), 'a', 1);
    const v2 = insert(v1, 'b', 2);
    const branch = insert(v1, 'c', 3);
    expect(branch.entries).not.toBe(v1.entries);
    expect([lookup(branch, 'a'), lookup(branch, 'b'), lookup(branch, 'c')]).toEqual([1, undefined, 3]);
    expect([lookup(v2, 'b'), lookup(v2, 'c')]).toEqual([2, undefined]);
    const grown = insert(v2, 'c', 30);
    expect([lookup(grown, 'c'), lookup(branch, 'c')]).toEqual([30, 3]);
  });
});
