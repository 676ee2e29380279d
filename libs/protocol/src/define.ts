// The authoring API a protocol file uses: `defineProtocol(metadata, async (ctx) => { await ctx.pause('Check the samples') })`.
// The context only records commands; running them is the engine's job, on the document the recording becomes.
import type { Command, LabwareGrid } from '@labrun/contracts';
import { withoutUndefined } from './objects.js';

export interface ProtocolInfo {
  name: string;
  description?: string;
  author?: string;
  /** Anything else the lab wants recorded with the run (`plate: "96-well"`, `version: 3`): strings, numbers, booleans. */
  [key: string]: string | number | boolean | undefined;
}

/** A move to deck coordinates in millimetres; give at least one axis. */
export interface AbsoluteMove {
  x?: number;
  y?: number;
  z?: number;
  /** Feed rate in mm/min, as in G-code's F word. */
  feed?: number;
}

/** A move to a well of the protocol's labware (`plate1/A1`), at its origin's height or at `z`. */
export interface WellMove {
  to: `${string}/${string}`;
  z?: number;
  feed?: number;
}

/** A move by offsets (mm) from where the move before, or `home`, left the machine. */
export interface RelativeMove extends AbsoluteMove {
  relative: true;
}

export type MoveTarget = AbsoluteMove | WellMove | RelativeMove;

/** A labware grid (well A1 at `origin`, columns along +x, rows A, B, … along +y): the contract's, as the engine reads it. */
export type { LabwareGrid } from '@labrun/contracts';

/** What is on the deck: labware that moves name (`{ to: 'plate1/A1' }`), and the height to travel at between wells. */
export interface Deck {
  labware?: Record<string, LabwareGrid>;
  /** A move to labware rises to this deck height (mm) first, moves across, then descends. */
  travelHeight?: number;
}

/** A JSON value: what a protocol may publish, and what a wait may compare with. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface PauseOptions {
  /** Resume by itself after this many seconds (a user's pause on top holds the countdown). */
  timeoutSeconds?: number;
}

export interface WaitOptions {
  /** A dotted path into the message's JSON (`result.status`); the whole message when absent. */
  field?: string;
  /** The value it must equal; any message on the topic matches when neither this nor `field` is given. */
  equals?: Json;
  /** Give up after this many seconds: the run then waits for recovery (code `wait-timeout`). */
  timeoutSeconds?: number;
  /** What the run shows while it waits. */
  message?: string;
  /** Whether a message retained before the wait began counts. */
  retained?: boolean;
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
  /** Pause the run until someone resumes it (or `timeoutSeconds` pass), showing `message` to whoever is watching. */
  pause(message?: string, options?: PauseOptions): Promise<void>;
  delay(seconds: number, message?: string): Promise<void>;
  comment(message: string): Promise<void>;
  /** Publish a message for another instrument, under the engine's protocol topics (`lab/…` by default). */
  publish(topic: string, payload: Json, options?: { retain?: boolean }): Promise<void>;
  /** Wait for another instrument's message on `topic` (a filter with + and # works too). */
  waitFor(topic: string, options?: WaitOptions): Promise<void>;
  /**
   * Switch a device output, named as the device names it (`pump`, `valve`), to `value`: 0 off, 1 fully on, and in
   * between for a proportional output such as a pump. The run switches it off again when it ends.
   */
  setOutput(output: string, value: number): Promise<void>;
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
  readonly deck?: Readonly<Deck>;
}

/** `deck`: the labware the protocol's moves name, and a travel height (see Deck). */
export function defineProtocol(metadata: ProtocolInfo, body: ProtocolBody, deck?: Deck): ProtocolDefinition {
  return Object.freeze({ kind: 'labrun-protocol', metadata: Object.freeze({ ...metadata }), body, ...(deck ? { deck: Object.freeze({ ...deck }) } : {}) });
}

export function isProtocolDefinition(value: unknown): value is ProtocolDefinition {
  return typeof value === 'object' && value !== null && (value as ProtocolDefinition).kind === 'labrun-protocol' && typeof (value as ProtocolDefinition).body === 'function';
}

/** A context that appends to `commands` until `seal()` is called; a call after that is a bug in the protocol. */
export function recordingContext(commands: Command[]): { ctx: ProtocolContext; seal: () => void } {
  let sealed = false;
  const record = (command: Command, method: keyof ProtocolContext = command.type as keyof ProtocolContext): Promise<void> => {
    if (sealed) {
      // Without this, a command issued from an un-awaited callback would vanish from the document silently.
      return Promise.reject(new Error(`ctx.${method}() was called after the protocol body finished: await every ctx call`));
    }
    commands.push(command);
    return Promise.resolve();
  };
  const ctx: ProtocolContext = {
    home: () => record({ type: 'home' }),
    move: (target) => record({ type: 'move', params: withoutUndefined(target ?? {}) } as Command),
    pause: (message, options) => {
      const params = withoutUndefined({ message, timeoutSeconds: options?.timeoutSeconds });
      return record(Object.keys(params).length === 0 ? { type: 'pause' } : ({ type: 'pause', params } as Command));
    },
    delay: (seconds, message) => record({ type: 'delay', params: withoutUndefined({ seconds, message }) } as Command),
    comment: (message) => record({ type: 'comment', params: { message } }),
    publish: (topic, payload, options) => record({ type: 'publish', params: withoutUndefined({ topic, payload, retain: options?.retain }) } as Command),
    waitFor: (topic, options) => record({ type: 'wait-for', params: withoutUndefined({ topic, ...options }) } as Command),
    setOutput: (output, value) => record({ type: 'set-output', params: { output, value } }, 'setOutput'),
    // A copy: the protocol may reuse its array. Anything but a list is left for the schema to explain.
    gcode: (lines) => record({ type: 'gcode', params: { lines: Array.isArray(lines) ? [...lines] : lines } }),
    probe: (target) => record({ type: 'probe', params: withoutUndefined(target ?? {}) } as Command),
  };
  return { ctx, seal: () => (sealed = true) };
}
