// What a device's reports mean for the runs on it: the safety interlock is active while the door is open,
// the controller is disconnected, or the hardware service is offline. Runs are blocked while it is active and
// wait, paused, for an explicit resume once it clears.
import type { HardwareState } from '@labrun/contracts';

export interface DeviceReport {
  /** The hardware service's retained online flag; undefined until it has been seen. */
  online?: boolean | undefined;
  state?: HardwareState | undefined;
}

export interface Interlock {
  active: boolean;
  message: string;
}

export function interlockOf(deviceId: string, report: DeviceReport): Interlock {
  if (report.online === false) return { active: true, message: `the hardware service for ${deviceId} is offline` };
  if (report.state?.connected === false) return { active: true, message: `controller ${deviceId} is disconnected` };
  if (report.state?.door === 'open') return { active: true, message: 'door open' };
  return { active: false, message: 'interlock cleared: check the machine, then resume' };
}

/**
 * Follows each device's reports and says when its interlock changes, with a message that names the cause
 * (and, on clearing, what cleared).
 */
export class InterlockWatch {
  private readonly devices = new Map<string, { report: DeviceReport; interlock: Interlock }>();

  /** The device's latest hardware state, if one has been seen. */
  state(deviceId: string): HardwareState | undefined {
    return this.devices.get(deviceId)?.report.state;
  }

  /** Returns the new interlock when it changed from active to inactive or back, else null. */
  update(deviceId: string, change: DeviceReport): Interlock | null {
    const previous = this.devices.get(deviceId) ?? { report: {}, interlock: { active: false, message: '' } };
    const report = { ...previous.report, ...change };
    let interlock = interlockOf(deviceId, report);
    if (!interlock.active && previous.interlock.active) {
      interlock = { active: false, message: `${clearedBy(previous.interlock.message)}: check the machine, then resume` };
    }
    this.devices.set(deviceId, { report, interlock });
    return interlock.active !== previous.interlock.active ? interlock : null;
  }
}

function clearedBy(cause: string): string {
  if (cause === 'door open') return 'door closed';
  if (cause.startsWith('controller')) return cause.replace('is disconnected', 'reconnected');
  if (cause.includes('offline')) return cause.replace('is offline', 'is back online');
  return 'interlock cleared';
}
