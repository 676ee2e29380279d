// What the gateway knows: the latest retained run statuses, engine and device online flags and device states,
// exactly as the broker last published them. The gateway decides nothing about runs; it only remembers.
import {
  EngineId,
  HARDWARE_LIMITS,
  HardwareState,
  RunStatusDocument,
  decodeJson,
  decodePayload,
  parseHwTopic,
  parseRunTopic,
  topics,
  type DecodeLimits,
  type Result,
} from '@labrun/contracts';

/** A status document is small; this only keeps a hostile payload from costing memory or stack. */
const STATUS_LIMITS: DecodeLimits = { maxBytes: 1024 * 1024, maxDepth: 8 };
const FLAG_LIMITS: DecodeLimits = { maxBytes: 16, maxDepth: 1 };

/** The subscriptions that feed the cache. */
export const CACHE_SUBSCRIPTIONS = [topics.allRuns('status'), 'engine/+/online', topics.allHw('online'), topics.allHw('state')];

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

export class BrokerCache {
  private readonly runs = new Map<string, RunStatusDocument>();
  private readonly engines = new Map<string, boolean>();
  private readonly deviceOnline = new Map<string, boolean>();
  private readonly deviceState = new Map<string, HardwareState>();

  /** Take one message in. An empty payload is a deleted retained message: forget what it held. */
  receive(topic: string, payload: Uint8Array): Ignored | null {
    if (topic.startsWith('run/')) return this.receiveRun(topic, payload);
    if (topic.startsWith('engine/')) return this.receiveEngine(topic, payload);
    if (topic.startsWith('hw/')) return this.receiveHardware(topic, payload);
    return { topic, reason: 'not a topic the gateway follows' };
  }

  run(runId: string): RunStatusDocument | undefined {
    return this.runs.get(runId);
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

  private receiveRun(topic: string, payload: Uint8Array): Ignored | null {
    const parsed = parseRunTopic(topic);
    if (!parsed.ok || parsed.value.kind !== 'status') return { topic, reason: parsed.ok ? 'not a status topic' : parsed.error };
    const { runId } = parsed.value;
    if (payload.byteLength === 0) {
      this.runs.delete(runId);
      return null;
    }
    const status = decodePayload(RunStatusDocument, payload, STATUS_LIMITS);
    if (!status.ok) return { topic, reason: `not a status document: ${status.error}` };
    if (status.value.runId !== runId) return { topic, reason: `the status document is for run ${status.value.runId}` };
    this.runs.set(runId, status.value);
    return null;
  }

  private receiveEngine(topic: string, payload: Uint8Array): Ignored | null {
    const parts = topic.split('/');
    const id = EngineId.safeParse(parts[1]);
    if (parts.length !== 3 || parts[2] !== 'online' || !id.success) return { topic, reason: 'expected engine/<engineId>/online' };
    return this.receiveFlag(topic, payload, this.engines, id.data);
  }

  private receiveHardware(topic: string, payload: Uint8Array): Ignored | null {
    const parsed = parseHwTopic(topic);
    if (!parsed.ok) return { topic, reason: parsed.error };
    const { deviceId, kind } = parsed.value;
    if (kind === 'online') return this.receiveFlag(topic, payload, this.deviceOnline, deviceId);
    if (kind !== 'state') return { topic, reason: 'not a topic the gateway follows' };
    if (payload.byteLength === 0) {
      this.deviceState.delete(deviceId);
      return null;
    }
    const state = decodePayload(HardwareState, payload, HARDWARE_LIMITS);
    if (!state.ok) return { topic, reason: `not a hardware state: ${state.error}` };
    this.deviceState.set(deviceId, state.value);
    return null;
  }

  private receiveFlag(topic: string, payload: Uint8Array, into: Map<string, boolean>, id: string): Ignored | null {
    if (payload.byteLength === 0) {
      into.delete(id);
      return null;
    }
    const flag: Result<unknown> = decodeJson(payload, FLAG_LIMITS);
    if (!flag.ok || typeof flag.value !== 'boolean') return { topic, reason: 'expected true or false' };
    into.set(id, flag.value);
    return null;
  }
}
