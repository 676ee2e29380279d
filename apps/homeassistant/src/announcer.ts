// Keeps Home Assistant's retained discovery configs in step with the fleet: announces a device when it appears,
// keeps its engine flag (`labrun/ha/<id>/engine`), removes its configs (an empty retained payload on each) once it
// has been gone for the settle time, and — after each connect — removes labrun configs left on the broker for
// devices that are no longer there.
import { topics } from '@labrun/contracts';
import type { Logger } from '@labrun/service';
import { deviceConfigs, labrunConfigDevice } from './discovery.js';
import type { Fleet } from './fleet.js';

export interface AnnouncerOptions {
  prefix: string;
  fleet: Fleet;
  /** Publish retained (an empty payload clears the topic). */
  publishRetained: (topic: string, payload: string) => void;
  log: Logger;
  settleMs: number;
}

export class Announcer {
  /** Devices whose configs are published. */
  private readonly announced = new Set<string>();
  /** The engine flag last published for each announced device. */
  private readonly engineFlags = new Map<string, boolean>();
  /** Devices gone, waiting out the settle time before their configs are removed. */
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  /** Retained labrun configs found on the broker since connecting, by topic, with the device each is for. */
  private readonly found = new Map<string, string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly options: AnnouncerOptions) {}

  /** The devices whose configs are published now. */
  devices(): string[] {
    return [...this.announced].sort();
  }

  /** After any change to the fleet: announce devices that came, update engine flags, let devices that went leave. */
  update(): void {
    const { fleet } = this.options;
    for (const deviceId of new Set([...fleet.devices(), ...this.announced])) {
      if (fleet.present(deviceId)) {
        this.stay(deviceId);
        if (!this.announced.has(deviceId)) this.announce(deviceId, 'appeared');
        this.flagEngine(deviceId, fleet.served(deviceId));
      } else if (this.announced.has(deviceId)) {
        this.flagEngine(deviceId, false);
        this.leave(deviceId);
      }
    }
  }

  /**
   * Publish every announced device's configs and engine flag again: when Home Assistant comes online (it may have
   * lost them), and after the bridge reconnects (a broker without persistence lost the retained ones).
   */
  announceAll(why: string): void {
    for (const deviceId of this.announced) this.announce(deviceId, why);
    for (const [deviceId, served] of this.engineFlags) this.options.publishRetained(topics.haEngine(deviceId), String(served));
  }

  /** Connected (again): republish, and collect the broker's retained labrun configs for one settle time, then sweep. */
  connected(onSwept: () => void): void {
    this.announceAll('connected');
    this.found.clear();
    this.sweeping = true;
    clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(() => {
      this.sweep();
      onSwept();
    }, this.options.settleMs);
  }

  /** A message on `<prefix>/+/+/+/config` while sweeping: note the retained labrun configs (ours come back live). */
  configSeen(topic: string, payload: Buffer, retained: boolean): void {
    if (!this.sweeping) return;
    if (payload.byteLength === 0) {
      this.found.delete(topic);
      return;
    }
    const deviceId = retained ? labrunConfigDevice(this.options.prefix, topic, payload) : null;
    if (deviceId !== null) this.found.set(topic, deviceId);
  }

  /** Remove every retained labrun config found that is not one the bridge publishes now. */
  private sweep(): void {
    this.sweeping = false;
    const current = new Set([...this.announced].flatMap((deviceId) => deviceConfigs(this.options.prefix, deviceId).map((m) => m.topic)));
    for (const [topic, deviceId] of this.found) {
      if (current.has(topic)) continue;
      this.options.log.info('removing a stale Home Assistant config', { deviceId, topic });
      this.options.publishRetained(topic, '');
    }
    this.found.clear();
  }

  close(): void {
    clearTimeout(this.sweepTimer);
    for (const timer of this.leaving.values()) clearTimeout(timer);
    this.leaving.clear();
  }

  private announce(deviceId: string, why: string): void {
    this.announced.add(deviceId);
    const messages = deviceConfigs(this.options.prefix, deviceId);
    for (const { topic, config } of messages) this.options.publishRetained(topic, JSON.stringify(config));
    this.options.log.info('announced device to Home Assistant', { deviceId, why, entities: messages.length });
  }

  private flagEngine(deviceId: string, served: boolean): void {
    if (this.engineFlags.get(deviceId) === served) return;
    this.engineFlags.set(deviceId, served);
    this.options.publishRetained(topics.haEngine(deviceId), String(served));
  }

  private stay(deviceId: string): void {
    clearTimeout(this.leaving.get(deviceId));
    this.leaving.delete(deviceId);
  }

  private leave(deviceId: string): void {
    if (this.leaving.has(deviceId)) return;
    const timer = setTimeout(() => {
      this.leaving.delete(deviceId);
      if (this.options.fleet.present(deviceId)) return;
      this.remove(deviceId);
    }, this.options.settleMs);
    this.leaving.set(deviceId, timer);
  }

  private remove(deviceId: string): void {
    for (const { topic } of deviceConfigs(this.options.prefix, deviceId)) this.options.publishRetained(topic, '');
    this.options.publishRetained(topics.haEngine(deviceId), '');
    this.announced.delete(deviceId);
    this.engineFlags.delete(deviceId);
    this.options.log.info('removed device from Home Assistant: no online engine serves it and its hardware service is offline', { deviceId });
  }
}
