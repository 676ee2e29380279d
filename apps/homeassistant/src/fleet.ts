// What the bridge knows of the fleet, from the broker's retained messages: which engines are online and which devices
// each serves, which hardware services are online, and each device's current run. From those it answers the two
// questions discovery needs: is a device there (so Home Assistant should show it), and does an online engine serve it.
import type { RunStatus } from '@labrun/contracts';

export interface CurrentRun {
  runId: string;
  status: RunStatus;
}

export class Fleet {
  private readonly engineOnline = new Map<string, boolean>();
  private readonly engineDevices = new Map<string, readonly string[]>();
  private readonly hwOnline = new Map<string, boolean>();
  private readonly current = new Map<string, CurrentRun>();

  /** `engine/<id>/online`: true, false, or null when cleared. */
  setEngineOnline(engineId: string, online: boolean | null): void {
    if (online === null) this.engineOnline.delete(engineId);
    else this.engineOnline.set(engineId, online);
  }

  /** The devices `engine/<id>/status` lists (null: the status was cleared). */
  setEngineDevices(engineId: string, devices: readonly string[] | null): void {
    if (devices === null) this.engineDevices.delete(engineId);
    else this.engineDevices.set(engineId, devices);
  }

  /** `hw/<id>/online`: true, false, or null when cleared. */
  setHardwareOnline(deviceId: string, online: boolean | null): void {
    if (online === null) this.hwOnline.delete(deviceId);
    else this.hwOnline.set(deviceId, online);
  }

  /** `device/<id>/current`: the run on the device now (or the last one), null when cleared. */
  setCurrentRun(deviceId: string, run: CurrentRun | null): void {
    if (run === null) this.current.delete(deviceId);
    else this.current.set(deviceId, run);
  }

  currentRun(deviceId: string): CurrentRun | null {
    return this.current.get(deviceId) ?? null;
  }

  /** Whether an online engine's status lists the device. */
  served(deviceId: string): boolean {
    for (const [engineId, devices] of this.engineDevices) {
      if (this.engineOnline.get(engineId) === true && devices.includes(deviceId)) return true;
    }
    return false;
  }

  /**
   * A device is there while an online engine serves it or its hardware service is online; it is gone once neither
   * holds — no online engine's status lists it, and its `hw/<id>/online` is `false` or cleared.
   */
  present(deviceId: string): boolean {
    return this.served(deviceId) || this.hwOnline.get(deviceId) === true;
  }

  /** Every device any engine status or hardware flag has named (present or not). */
  devices(): string[] {
    const ids = new Set(this.hwOnline.keys());
    for (const devices of this.engineDevices.values()) for (const id of devices) ids.add(id);
    return [...ids].sort();
  }
}
