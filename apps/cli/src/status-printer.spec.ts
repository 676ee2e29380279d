// Unit tests of the status printer: a line per change, never a repeat, never going back in time.
import { describe, expect, it } from 'vitest';
import { StatusPrinter } from './status-printer.js';
import { statusDocument as statusOf } from '@labrun/testkit';

describe('StatusPrinter', () => {
  it('prints each change once, and ignores documents older than the last one shown', () => {
    const written: string[] = [];
    const printer = new StatusPrinter(
      (text) => written.push(text),
      (s) => [`${s.runId} ${s.status}`],
    );
    expect(printer.show(statusOf('r-1', { seq: 1 }))).toBe(true);
    expect(printer.show(statusOf('r-1', { seq: 1 }))).toBe(true); // republished after a reconnect: same text
    expect(printer.show(statusOf('r-1', { seq: 3, status: 'running' }))).toBe(true);
    expect(printer.show(statusOf('r-1', { seq: 2, status: 'idle' }))).toBe(false);
    expect(printer.show(statusOf('r-2', { seq: 1 }))).toBe(true);
    expect(written).toEqual(['r-1 idle\n', 'r-1 running\n', 'r-2 idle\n']);
  });
});
