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
