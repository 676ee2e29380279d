// The engines on one broker (or one broker cluster) and who serves which device. Each engine serves the devices
// ENGINE_DEVICES names and announces them in its retained engine/<id>/status; whether it is online is its retained
// engine/<id>/online flag (`false` as its last will). Only the engine serving a run's device carries the run out and
// answers for it. Of two engines claiming a device, the one online first keeps it (then the lower id); the other
// stands by and takes the device over once the first is offline. What nobody serves or has is answered by exactly
// one engine, the leader: the lowest id among the online engines. See docs/fleet.md.
import { claimsFirst, decodeOnlineFlag, EngineStatus, parseEngineOnlineTopic, parseEngineStatusTopic } from '@labrun/contracts';
import type { Logger } from '@labrun/service';

interface OtherEngine {
  /** Its online flag: undefined until seen (and after it was cleared), which counts as offline. */
  online: boolean | undefined;
  devices: readonly string[];
  onlineSince: string | null;
}

export interface FleetChange {
  /** Devices this engine serves from now on (it stood by for them). */
  took: string[];
  /** Devices it no longer serves: another engine served them first. */
  yielded: { deviceId: string; servedBy: string }[];
}

export class Fleet {
  private readonly others = new Map<string, OtherEngine>();
  /** The runs other engines hold, by run id: from their retained run/<id>/status (which names the engine). */
  private readonly otherRuns = new Map<string, string>();
  private readonly served = new Set<string>();
  private readonly standingBy = new Map<string, string>();

  constructor(
    readonly ownId: string,
    /** The devices this engine is configured for (ENGINE_DEVICES), in order. */
    readonly claims: readonly string[],
    readonly onlineSince: string,
    private readonly log: Logger,
  ) {}

  /** The devices this engine serves now. */
  get devices(): string[] {
    return this.claims.filter((d) => this.served.has(d));
  }

  /** The devices it is configured for that another engine serves, and which engine. */
  get standby(): { deviceId: string; servedBy: string }[] {
    return [...this.standingBy].map(([deviceId, servedBy]) => ({ deviceId, servedBy }));
  }

  serves(deviceId: string): boolean {
    return this.served.has(deviceId);
  }

  /** The online engine serving `deviceId` (this one included), or null when none does. */
  servedBy(deviceId: string): string | null {
    if (this.served.has(deviceId)) return this.ownId;
    for (const [id, engine] of this.others) if (engine.online === true && engine.devices.includes(deviceId)) return id;
    return null;
  }

  /** The devices the other online engines serve. */
  otherDevices(): string[] {
    return [...this.others.values()].filter((e) => e.online === true).flatMap((e) => e.devices);
  }

  /** The engine that answers what no engine serves or holds: the lowest id among the online engines. */
  get leader(): string {
    let lowest = this.ownId;
    for (const [id, engine] of this.others) if (engine.online === true && id < lowest) lowest = id;
    return lowest;
  }

  get isLeader(): boolean {
    return this.leader === this.ownId;
  }

  /** The engine that holds `runId`, if another one does (as its retained status says). */
  runHolder(runId: string): string | undefined {
    return this.otherRuns.get(runId);
  }

  /** A run/<id>/status another engine published (an empty payload: the run is gone). */
  noteRunStatus(runId: string, payload: Buffer): void {
    if (payload.length === 0) {
      this.otherRuns.delete(runId);
      return;
    }
    // Only the engine's id is needed: a cheap look, not a full decode of every status of every engine.
    const match = /"engineId":"([^"\\]+)"/.exec(payload.toString('utf8'));
    if (match && match[1] !== this.ownId) this.otherRuns.set(runId, match[1]!);
  }

  /** Take a message on engine/+/online or engine/+/status; says whether it was one. */
  handle(topic: string, payload: Buffer): boolean {
    if (!topic.startsWith('engine/')) return false;
    const online = parseEngineOnlineTopic(topic);
    const status = online.ok ? null : parseEngineStatusTopic(topic);
    const engineId = online.ok ? online.value.engineId : status?.ok ? status.value.engineId : null;
    if (engineId === null || engineId === this.ownId) return true;
    const known = this.others.get(engineId) ?? { online: undefined, devices: [], onlineSince: null };
    if (online.ok) {
      const flag = payload.length === 0 ? null : decodeOnlineFlag(payload);
      if (flag !== null && !flag.ok) return true; // unreadable: says nothing either way
      const up = flag === null ? undefined : flag.value === true;
      if (up !== known.online) this.log.info(up ? 'another engine is online' : 'another engine is offline', { engineId, devices: known.devices.join(',') });
      this.others.set(engineId, { ...known, online: up });
    } else {
      if (payload.length === 0) {
        this.others.set(engineId, { ...known, devices: [], onlineSince: null });
        return true;
      }
      let document: unknown;
      try {
        document = JSON.parse(payload.toString('utf8'));
      } catch {
        return true;
      }
      const parsed = EngineStatus.safeParse(document);
      if (!parsed.success) return true;
      this.others.set(engineId, { ...known, devices: parsed.data.devices ?? [], onlineSince: parsed.data.onlineSince ?? null });
    }
    return true;
  }

  /**
   * Work out again which of its devices this engine serves, from what the others announce: a device another online
   * engine serves, and came online for first, is that engine's. Returns what changed (and logs it).
   */
  resolve(): FleetChange {
    const change: FleetChange = { took: [], yielded: [] };
    for (const deviceId of this.claims) {
      const holder = this.firstHolder(deviceId);
      if (holder === null) {
        if (!this.served.has(deviceId)) {
          const stoodBy = this.standingBy.get(deviceId);
          this.served.add(deviceId);
          this.standingBy.delete(deviceId);
          change.took.push(deviceId);
          if (stoodBy) this.log.warn(`engine ${stoodBy} is offline: taking over device ${deviceId}`, { deviceId, from: stoodBy });
        }
      } else if (this.standingBy.get(deviceId) !== holder) {
        const wasServing = this.served.delete(deviceId);
        this.standingBy.set(deviceId, holder);
        change.yielded.push({ deviceId, servedBy: holder });
        this.log.error(
          `refusing to serve device ${deviceId}: engine ${holder} serves it, online since before this one. Standing by: this engine carries out none of its runs until ${holder} is offline, then takes it over`,
          { deviceId, servedBy: holder, wasServing },
        );
      }
    }
    return change;
  }

  /** Another online engine that serves `deviceId` and came online before this one (or at once, with a lower id). */
  private firstHolder(deviceId: string): string | null {
    const own = { engineId: this.ownId, onlineSince: this.onlineSince };
    for (const [id, engine] of this.others) {
      if (engine.online === true && engine.devices.includes(deviceId) && claimsFirst({ engineId: id, onlineSince: engine.onlineSince }, own)) return id;
    }
    return null;
  }
}
