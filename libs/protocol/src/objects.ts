// Small object helpers the authoring API needs (not part of the package's API).

/** `{ x: 1, y: undefined }` → `{ x: 1 }`, so the document reads as a person would have written it. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
