// A list that only grows, shared between successive states without copying: each state sees the first
// `length` items. Appending to an older state (a branch) copies, so no state ever sees another's items.
// It keeps `apply` pure and O(1) per command on a 100,000-command protocol.
export interface AppendOnly<T> {
  readonly items: readonly T[];
  readonly length: number;
}

export const emptyList = <T>(): AppendOnly<T> => ({ items: [], length: 0 });

export function append<T>(list: AppendOnly<T>, item: T): AppendOnly<T> {
  const items = list.items.length === list.length ? (list.items as T[]) : list.items.slice(0, list.length);
  items.push(item);
  return { items, length: list.length + 1 };
}

export function at<T>(list: AppendOnly<T>, index: number): T | undefined {
  return index < list.length ? list.items[index] : undefined;
}

/**
 * A map that only grows, shared the same way: each state sees the entries added before it (the first `size`).
 * Adding to an older state copies the entries it sees. A run's answered action ids live in one: thousands of
 * actions on a run cost O(1) each, not a copy of every answer so far.
 */
export interface AppendOnlyMap<K, V> {
  readonly entries: ReadonlyMap<K, { readonly value: V; readonly order: number }>;
  readonly size: number;
}

export const emptyMap = <K, V>(): AppendOnlyMap<K, V> => ({ entries: new Map(), size: 0 });

export function lookup<K, V>(map: AppendOnlyMap<K, V>, key: K): V | undefined {
  const entry = map.entries.get(key);
  return entry !== undefined && entry.order < map.size ? entry.value : undefined;
}

export function insert<K, V>(map: AppendOnlyMap<K, V>, key: K, value: V): AppendOnlyMap<K, V> {
  const latest = map.entries.size === map.size && !map.entries.has(key);
  const entries = latest ? (map.entries as Map<K, { value: V; order: number }>) : new Map([...map.entries].filter(([k, e]) => e.order < map.size && k !== key));
  entries.set(key, { value, order: map.size });
  return { entries, size: map.size + 1 };
}
