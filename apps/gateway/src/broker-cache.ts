// What the gateway knows: the latest retained run statuses and commands documents, engine and device online
// flags and device states, exactly as the broker last published them; and, passing through without being kept,
// the runs' events. The gateway decides nothing about runs; it only remembers, and tells whoever listens.
import {
  HARDWARE_LIMITS,
  HardwareState,
  RunCommandsDocument,
  RunEvent,
  RunStatusDocument,
  decodeOnlineFlag,
  decodePayload,
  parseEngineOnlineTopic,
  parseHwTopic,
  parseRunTopic,
  topics,
  type DecodeLimits,
} from '@labrun/contracts';

/** A status document is small; this only keeps a hostile payload from costing memory or stack. */
const STATUS_LIMITS: DecodeLimits = { maxBytes: 1024 * 1024, maxDepth: 8 };
/** A commands document holds the whole protocol (up to a million commands), like a create. */
const COMMANDS_LIMITS: DecodeLimits = { maxBytes: 256 * 1024 * 1024, maxDepth: 16 };
/** An event holds the protocol only in `run.created`. */
const EVENT_LIMITS: DecodeLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 16 };

/** The subscriptions that feed the cache. */
export const CACHE_SUBSCRIPTIONS = [topics.allRuns('status'), topics.allRuns('commands'), topics.allRuns('events'), topics.allEngines(), topics.allHw('online'), topics.allHw('state')];

export interface DeviceView {
  online: boolean;
  state: HardwareState | null;
}

export interface Health {
  broker: boolean;
  engines: Record<string, boolean>;
  devices: Record<string, DeviceView>;
}

/** Why a message was not taken into the cache, for the log. */
export type Ignored = { topic: string; reason: string };

/** What changed, for the live views (server-sent events) that follow the cache. */
export type CacheUpdate =
  | { kind: 'status'; runId: string; status: RunStatusDocument }
  | { kind: 'run-removed'; runId: string }
  | { kind: 'commands'; runId: string; commands: RunCommandsDocument }
  | { kind: 'event'; runId: string; event: RunEvent }
  | { kind: 'health' };

export class BrokerCache {
  private readonly runs = new Map<string, RunStatusDocument>();
  private readonly commandDocuments = new Map<string, RunCommandsDocument>();
  private readonly engines = new Map<string, boolean>();
  private readonly deviceOnline = new Map<string, boolean>();
  private readonly deviceState = new Map<string, HardwareState>();
  private readonly listeners = new Set<(update: CacheUpdate) => void>();

  /** Take one message in. An empty payload is a deleted retained message: forget what it held. */
  receive(topic: string, payload: Uint8Array): Ignored | null {
    if (topic.startsWith('run/')) return this.receiveRun(topic, payload);
    if (topic.startsWith('engine/')) return this.receiveEngine(topic, payload);
    if (topic.startsWith('hw/')) return this.receiveHardware(topic, payload);
    return { topic, reason: 'not a topic the gateway follows' };
  }

  /** Call `listener` with every change from now on; returns the function that stops it. */
  follow(listener: (update: CacheUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The connection to the broker came or went: health has changed. */
  brokerChanged(): void {
    this.tell({ kind: 'health' });
  }

  run(runId: string): RunStatusDocument | undefined {
    return this.runs.get(runId);
  }

  commands(runId: string): RunCommandsDocument | undefined {
    return this.commandDocuments.get(runId);
  }

  /** Every known run, oldest first, as Opentrons' GET /runs lists them. */
  listRuns(): RunStatusDocument[] {
    return [...this.runs.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
  }

  health(brokerConnected: boolean): Health {
    const devices: Record<string, DeviceView> = {};
    for (const id of new Set([...this.deviceOnline.keys(), ...this.deviceState.keys()]).values()) {
      devices[id] = { online: this.deviceOnline.get(id) ?? false, state: this.deviceState.get(id) ?? null };
    }
    return { broker: brokerConnected, engines: Object.fromEntries(this.engines), devices };
  }

  /** Which engines say they are online, for messages such as "no engine answered". */
  onlineEngines(): string[] {
    return [...this.engines].filter(([, online]) => online).map(([id]) => id);
  }

  private tell(update: CacheUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  private receiveRun(topic: string, payload: Uint8Array): Ignored | null {
    const parsed = parseRunTopic(topic);
    if (!parsed.ok) return { topic, reason: parsed.error };
    const { runId, kind } = parsed.value;
    switch (kind) {
      case 'status': {
        if (payload.byteLength === 0) {
          this.runs.delete(runId);
          this.commandDocuments.delete(runId);
          this.tell({ kind: 'run-removed', runId });
          return null;
        }
        const status = decodePayload(RunStatusDocument, payload, STATUS_LIMITS);
        if (!status.ok) return { topic, reason: `not a status document: ${status.error}` };
        if (status.value.runId !== runId) return { topic, reason: `the status document is for run ${status.value.runId}` };
        this.runs.set(runId, status.value);
        this.tell({ kind: 'status', runId, status: status.value });
        return null;
      }
      case 'commands': {
        if (payload.byteLength === 0) {
          this.commandDocuments.delete(runId);
          return null;
        }
        const commands = decodePayload(RunCommandsDocument, payload, COMMANDS_LIMITS);
        if (!commands.ok) return { topic, reason: `not a commands document: ${commands.error}` };
        if (commands.value.runId !== runId) return { topic, reason: `the commands document is for run ${commands.value.runId}` };
        this.commandDocuments.set(runId, commands.value);
        this.tell({ kind: 'commands', runId, commands: commands.value });
        return null;
      }
      case 'events': {
        const event = decodePayload(RunEvent, payload, EVENT_LIMITS);
        if (!event.ok) return { topic, reason: `not a run event: ${event.error}` };
        if (event.value.runId !== runId) return { topic, reason: `the event is for run ${event.value.runId}` };
        this.tell({ kind: 'event', runId, event: event.value });
        return null;
      }
      default:
        return { topic, reason: `not a topic the gateway follows` };
    }
  }

  private receiveEngine(topic: string, payload: Uint8Array): Ignored | null {
    const parsed = parseEngineOnlineTopic(topic);
    if (!parsed.ok) return { topic, reason: parsed.error };
    return this.receiveFlag(topic, payload, this.engines, parsed.value.engineId);
  }

  private receiveHardware(topic: string, payload: Uint8Array): Ignored | null {
    const parsed = parseHwTopic(topic);
    if (!parsed.ok) return { topic, reason: parsed.error };
    const { deviceId, kind } = parsed.value;
    if (kind === 'online') return this.receiveFlag(topic, payload, this.deviceOnline, deviceId);
    if (kind !== 'state') return { topic, reason: 'not a topic the gateway follows' };
    if (payload.byteLength === 0) {
      this.deviceState.delete(deviceId);
      this.tell({ kind: 'health' });
      return null;
    }
    const state = decodePayload(HardwareState, payload, HARDWARE_LIMITS);
    if (!state.ok) return { topic, reason: `not a hardware state: ${state.error}` };
    this.deviceState.set(deviceId, state.value);
    this.tell({ kind: 'health' });
    return null;
  }

  private receiveFlag(topic: string, payload: Uint8Array, into: Map<string, boolean>, id: string): Ignored | null {
    const flag = decodeOnlineFlag(payload);
    if (!flag.ok) return { topic, reason: flag.error };
    if (flag.value === null) into.delete(id);
    else into.set(id, flag.value);
    this.tell({ kind: 'health' });
    return null;
  }
}
