// What the driver tests use to look at a promise without awaiting it: has it settled yet, and how.
export function watch<T>(promise: Promise<T>) {
  const seen: { settled: boolean; value?: T; error?: Error & { code?: string } } = { settled: false };
  promise.then(
    (value) => Object.assign(seen, { settled: true, value }),
    (error: Error) => Object.assign(seen, { settled: true, error }),
  );
  return seen;
}
