// A simulator on fake timers and a terminal on its port, for the simulator's specs: start it, send it bytes,
// and read what it printed meanwhile. `sim` and `term` are the current test's (live bindings).
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { GrblSimulator, type GrblSimulatorOptions } from './index.js';
import { SerialTerminal } from './terminal.js';

export const BANNER = ['', "Grbl 1.1h ['$' for help]"];
export const UNLOCK_HINT = "[MSG:'$H'|'$X' to unlock]";
export const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

export let sim: GrblSimulator;
export let term: SerialTerminal;

/** Fake timers for every test of the spec, and the simulator closed after each. */
export function useSimulatorClock(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    sim.close();
    vi.useRealTimers();
  });
}

/** A simulator at baud 0 (unless the options say otherwise), with its start-up printed. */
export async function start(options: GrblSimulatorOptions = {}): Promise<void> {
  sim = new GrblSimulator({ baudRate: 0, ...options });
  term = new SerialTerminal(sim.port);
  await advance(0);
}

/** A simulator unlocked with `$X`, so it takes G-code at once. */
export async function unlocked(options: GrblSimulatorOptions = {}): Promise<void> {
  await start(options);
  await exchange('$X\n');
}

/** What the controller prints while `ms` pass. */
export async function later(ms: number): Promise<string[]> {
  const from = term.lines.length;
  await advance(ms);
  return term.since(from);
}

/** Send and let the controller answer; returns the lines it printed meanwhile. */
export async function exchange(data: string | number[], ms = 0): Promise<string[]> {
  const from = term.lines.length;
  term.send(data);
  await advance(ms);
  return term.since(from);
}

/** A status report now, as the fields after the state: { state, MPos, FS… }. */
export async function status(): Promise<Record<string, string>> {
  const [report] = await exchange('?');
  expect(report).toMatch(/^<.*>$/);
  const [state, ...fields] = report!.slice(1, -1).split('|');
  return { state: state!, ...Object.fromEntries(fields.map((f) => f.split(':') as [string, string])) };
}
