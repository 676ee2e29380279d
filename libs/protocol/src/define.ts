// The authoring API a protocol file uses: `defineProtocol(metadata, async (ctx) => { await ctx.pause('Check the samples') })`.
// The context only records commands; running them is the engine's job, on the document the recording becomes.
import type { Command } from '@labrun/contracts';
import { withoutUndefined } from './objects.js';

export interface ProtocolInfo {
  name: string;
  description?: string;
  author?: string;
  /** Anything else the lab wants recorded with the run (`plate: "96-well"`, `version: 3`): strings, numbers, booleans. */
  [key: string]: string | number | boolean | undefined;
}

export interface MoveTarget {
  /** Machine coordinates in millimetres; give at least one axis. */
  x?: number;
  y?: number;
  z?: number;
  /** Feed rate in mm/min, as in G-code's F word. */
  feed?: number;
}

export interface ProbeTarget {
  /** The point the probe moves toward, in deck coordinates (mm); give at least one axis. */
  x?: number;
  y?: number;
  z?: number;
  /** Feed rate in mm/min: it moves at this speed until the probe touches. Required. */
  feed: number;
}

/** What a protocol body can ask for. Each call records one command; awaiting it keeps protocol code readable. */
export interface ProtocolContext {
  home(): Promise<void>;
  move(target: MoveTarget): Promise<void>;
  /** Pause the run until someone resumes it, showing `message` to whoever is watching. */
  pause(message?: string): Promise<void>;
  delay(seconds: number, message?: string): Promise<void>;
  comment(message: string): Promise<void>;
  /** A short block of raw G-code (at most 100 lines) for what has no command of its own; checked line by line at create. */
  gcode(lines: string[]): Promise<void>;
  /** Probe toward a point (GRBL `G38.2`): the command's result is where the probe touched; touching nothing fails it. */
  probe(target: ProbeTarget): Promise<void>;
}

export type ProtocolBody = (ctx: ProtocolContext) => Promise<void> | void;

export interface ProtocolDefinition {
  readonly kind: 'labrun-protocol';
  readonly metadata: Readonly<ProtocolInfo>;
  readonly body: ProtocolBody;
}

export function defineProtocol(metadata: ProtocolInfo, body: ProtocolBody): ProtocolDefinition {
  return Object.freeze({ kind: 'labrun-protocol', metadata: Object.freeze({ ...metadata }), body });
}

export function isProtocolDefinition(value: unknown): value is ProtocolDefinition {
  return typeof value === 'object' && value !== null && (value as ProtocolDefinition).kind === 'labrun-protocol' && typeof (value as ProtocolDefinition).body === 'function';
}

/** A context that appends to `commands` until `seal()` is called; a call after that is a bug in the protocol. */
export function recordingContext(commands: Command[]): { ctx: ProtocolContext; seal: () => void } {
  let sealed = false;
  const record = (command: Command): Promise<void> => {
    if (sealed) {
      // Without this, a command issued from an un-awaited callback would vanish from the document silently.
      return Promise.reject(new Error(`ctx.${command.type}() was called after the protocol body finished: await every ctx call`));
    }
    commands.push(command);
    return Promise.resolve();
  };
  const ctx: ProtocolContext = {
    home: () => record({ type: 'home' }),
    move: (target) => record({ type: 'move', params: withoutUndefined(target ?? {}) } as Command),
    pause: (message) => record(message === undefined ? { type: 'pause' } : { type: 'pause', params: { message } }),
    delay: (seconds, message) => record({ type: 'delay', params: withoutUndefined({ seconds, message }) } as Command),
    comment: (message) => record({ type: 'comment', params: { message } }),
    // A copy: the protocol may reuse its array. Anything but a list is left for the schema to explain.
    gcode: (lines) => record({ type: 'gcode', params: { lines: Array.isArray(lines) ? [...lines] : lines } }),
    probe: (target) => record({ type: 'probe', params: withoutUndefined(target ?? {}) } as Command),
  };
  return { ctx, seal: () => (sealed = true) };
}
