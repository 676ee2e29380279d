// What the gateway knows: the latest retained run statuses and commands documents, engine online flags and
// statuses, device online flags, states and current runs, exactly as the broker last published them; and, passing
// through without being kept, the runs' events. The gateway decides nothing about runs; it only remembers, and
// tells whoever listens. From those it puts together the fleet: which engine serves each device, which stand by,
// and each device's current run.
import {
  EngineStatus,
  claimsFirst,
  FINISHED_STATUSES,
  HARDWARE_LIMITS,
  HardwareState,
  RunCommandsDocument,
  RunEvent,
  RunStatusDocument,
  decodeOnlineFlag,
  decodePayload,
  parseDeviceCurrentTopic,
  parseEngineOnlineTopic,
  parseEngineStatusTopic,
  parseHwTopic,
  parseRunTopic,
  topics,
  type DecodeLimits,
  type FleetDevice,
} from '@labrun/contracts';

/** A status document is small; this only keeps a hostile payload from costing memory or stack. */
const STATUS_LIMITS: DecodeLimits = { maxBytes: 1024 * 1024, maxDepth: 8 };
/** A commands document holds the whole protocol (up to a million commands), like a create. */
const COMMANDS_LIMITS: DecodeLimits = { maxBytes: 256 * 1024 * 1024, maxDepth: 16 };
/** An event holds the protocol only in `run.created`. */
const EVENT_LIMITS: DecodeLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 16 };

/** The subscriptions that feed the cache. */
export const CACHE_SUBSCRIPTIONS = [topics.allRuns('status'), topics.allRuns('commands'), topics.allRuns('events'), topics.allEngines(), topics.allHw('online'), topics.allHw('state')];
/** The fleet's topics: engines' statuses (the devices each serves) and each device's current run. */
export const FLEET_SUBSCRIPTIONS = [topics.allEngineStatuses(), topics.allDevicesCurrent()];

export interface DeviceView {
  online: boolean;
  state: HardwareState | null;
}

export interface Health {
  broker: boolean;
  engines: Record<string, boolean>;
  devices: Record<string, DeviceView>;
}

/** One engine as `GET /engines` shows it: its online flag and what its retained status says (null until it has one). */
export interface EngineView {
  engineId: string;
  /** Its `engine/<id>/online` flag; false until one was seen. */
  online: boolean;
  /** The devices it serves, as its status says; null without a status or from an engine before fleets. */
  devices: string[] | null;
  /** The devices it is configured for that another engine serves. */
  standby: { deviceId: string; servedBy: string }[];
  onlineSince: string | null;
  journal: EngineStatus['journal'] | null;
  activeRuns: number | null;
  maxActiveRuns: number | null;
  /** When its status was published; null without one. */
  statusAt: string | null;
}

/** Why a message was not taken into the cache, for the log. */
export type Ignored = { topic: string; reason: string };

/** What changed, for the live views (server-sent events) that follow the cache. */
export type CacheUpdate =
  | { kind: 'status'; runId: string; status: RunStatusDocument }
  | { kind: 'run-removed'; runId: string }
  | { kind: 'commands'; runId: string; commands: RunCommandsDocument }
  | { kind: 'event'; runId: string; event: RunEvent }
  | { kind: 'health' }
  /** An engine's status or a device's current run changed: the fleet view (devices, engines) may have. */
  | { kind: 'fleet' };

export class BrokerCache {
  private readonly runs = new Map<string, RunStatusDocument>();
  private readonly commandDocuments = new Map<string, RunCommandsDocument>();
  private readonly engines = new Map<string, boolean>();
  private readonly engineStatuses = new Map<string, EngineStatus>();
  private readonly deviceCurrent = new Map<string, RunStatusDocument>();
  private readonly deviceOnline = new Map<string, boolean>();
  private readonly deviceState = new Map<string, HardwareState>();
  private readonly listeners = new Set<(update: CacheUpdate) => void>();

  /** Take one message in. An empty payload is a deleted retained message: forget what it held. */
  receive(topic: string, payload: Uint8Array): Ignored | null {
    if (topic.startsWith('run/')) return this.receiveRun(topic, payload);
    if (topic.startsWith('engine/')) return this.receiveEngine(topic, payload);
    if (topic.startsWith('hw/')) return this.receiveHardware(topic, payload);
    if (topic.startsWith('device/')) return this.receiveDeviceCurrent(topic, payload);
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

  /** Every engine known by its online flag or its status, by id. */
  listEngines(): EngineView[] {
    const ids = [...new Set([...this.engines.keys(), ...this.engineStatuses.keys()])].sort();
    return ids.map((engineId) => {
      const status = this.engineStatuses.get(engineId);
      return {
        engineId,
        online: this.engines.get(engineId) ?? false,
        devices: status?.devices ?? null,
        standby: status?.standby ?? [],
        onlineSince: status?.onlineSince ?? null,
        journal: status?.journal ?? null,
        activeRuns: status?.activeRuns ?? null,
        maxActiveRuns: status?.maxActiveRuns ?? null,
        statusAt: status?.at ?? null,
      };
    });
  }

  engine(engineId: string): EngineView | undefined {
    return this.listEngines().find((e) => e.engineId === engineId);
  }

  /**
   * Every device known — from its hardware service's flag or state, the engines' statuses, its current run, the
   * runs on it — by id.
   */
  listDevices(): FleetDevice[] {
    const ids = new Set([...this.deviceOnline.keys(), ...this.deviceState.keys(), ...this.deviceCurrent.keys()]);
    for (const status of this.engineStatuses.values()) {
      for (const id of status.devices ?? []) ids.add(id);
      for (const { deviceId } of status.standby ?? []) ids.add(deviceId);
    }
    for (const run of this.runs.values()) ids.add(run.deviceId);
    const byDevice = this.runsByDevice();
    return [...ids].sort().map((deviceId) => this.deviceView(deviceId, byDevice.get(deviceId) ?? []));
  }

  device(deviceId: string): FleetDevice | undefined {
    return this.listDevices().find((d) => d.deviceId === deviceId);
  }

  /**
   * Whether the gateway knows, without asking, that no online engine serves `deviceId`: every online engine has
   * said which devices it serves (engines before fleets do not), and none named it. Null when it cannot tell.
   */
  knownUnserved(deviceId: string): { served: string[] } | null {
    const online = this.onlineEngines();
    if (online.length === 0) return null;
    const served = new Set<string>();
    for (const engineId of online) {
      const devices = this.engineStatuses.get(engineId)?.devices;
      if (devices === undefined) return null;
      if (devices.includes(deviceId)) return null;
      for (const id of devices) served.add(id);
    }
    return { served: [...served].sort() };
  }

  private runsByDevice(): Map<string, RunStatusDocument[]> {
    const byDevice = new Map<string, RunStatusDocument[]>();
    for (const run of this.runs.values()) {
      const list = byDevice.get(run.deviceId);
      if (list) list.push(run);
      else byDevice.set(run.deviceId, [run]);
    }
    return byDevice;
  }

  private deviceView(deviceId: string, runs: RunStatusDocument[]): FleetDevice {
    // Serving: an online engine whose status names the device; of two (for a moment, while one yields), the one
    // the engines themselves let keep it (claimsFirst).
    let serving: { engineId: string; onlineSince: string | null } | null = null;
    const standby: string[] = [];
    for (const [id, status] of [...this.engineStatuses].sort(([a], [b]) => a.localeCompare(b))) {
      if (this.engines.get(id) !== true) continue;
      const claim = { engineId: id, onlineSince: status.onlineSince ?? null };
      if (status.devices?.includes(deviceId) && (serving === null || claimsFirst(claim, serving))) serving = claim;
      if (status.standby?.some((s) => s.deviceId === deviceId)) standby.push(id);
    }
    return {
      deviceId,
      online: this.deviceOnline.get(deviceId) ?? false,
      state: this.deviceState.get(deviceId) ?? null,
      engineId: serving?.engineId ?? null,
      standby,
      current: this.currentRun(deviceId, runs),
    };
  }

  /**
   * The device's current run: what its engine last published on device/<id>/current (or the same run's newer
   * status, should it have come first); from an engine that publishes none, the run under way on it (the first
   * started), else the first one waiting to start, else the one that finished last.
   */
  private currentRun(deviceId: string, runs: RunStatusDocument[]): RunStatusDocument | null {
    const published = this.deviceCurrent.get(deviceId);
    if (published) {
      const latest = this.runs.get(published.runId);
      return latest && latest.deviceId === deviceId && latest.seq > published.seq ? latest : published;
    }
    const unfinished = runs.filter((r) => !FINISHED_STATUSES.includes(r.status));
    const byTime = (at: (r: RunStatusDocument) => string | null) => (a: RunStatusDocument, b: RunStatusDocument) => (at(a) ?? '').localeCompare(at(b) ?? '') || a.runId.localeCompare(b.runId);
    const started = unfinished.filter((r) => r.startedAt !== null).sort(byTime((r) => r.startedAt));
    if (started[0]) return started[0];
    const waiting = unfinished.sort(byTime((r) => r.createdAt));
    if (waiting[0]) return waiting[0];
    return runs.sort(byTime((r) => r.completedAt ?? r.updatedAt)).at(-1) ?? null;
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
    if (topic.endsWith('/status')) return this.receiveEngineStatus(topic, payload);
    const parsed = parseEngineOnlineTopic(topic);
    if (!parsed.ok) return { topic, reason: parsed.error };
    return this.receiveFlag(topic, payload, this.engines, parsed.value.engineId);
  }

  private receiveEngineStatus(topic: string, payload: Uint8Array): Ignored | null {
    const parsed = parseEngineStatusTopic(topic);
    if (!parsed.ok) return { topic, reason: parsed.error };
    const { engineId } = parsed.value;
    if (payload.byteLength === 0) {
      this.engineStatuses.delete(engineId);
      this.tell({ kind: 'fleet' });
      return null;
    }
    const status = decodePayload(EngineStatus, payload, STATUS_LIMITS);
    if (!status.ok) return { topic, reason: `not an engine status: ${status.error}` };
    if (status.value.engineId !== engineId) return { topic, reason: `the engine status is for engine ${status.value.engineId}` };
    this.engineStatuses.set(engineId, status.value);
    this.tell({ kind: 'fleet' });
    return null;
  }

  private receiveDeviceCurrent(topic: string, payload: Uint8Array): Ignored | null {
    const parsed = parseDeviceCurrentTopic(topic);
    if (!parsed.ok) return { topic, reason: parsed.error };
    const { deviceId } = parsed.value;
    if (payload.byteLength === 0) {
      this.deviceCurrent.delete(deviceId);
      this.tell({ kind: 'fleet' });
      return null;
    }
    const status = decodePayload(RunStatusDocument, payload, STATUS_LIMITS);
    if (!status.ok) return { topic, reason: `not a status document: ${status.error}` };
    if (status.value.deviceId !== deviceId) return { topic, reason: `the current run ${status.value.runId} is on device ${status.value.deviceId}` };
    this.deviceCurrent.set(deviceId, status.value);
    this.tell({ kind: 'fleet' });
    return null;
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
