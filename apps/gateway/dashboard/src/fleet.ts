// What the dashboard's devices panel and run filters show, as pure functions tested in node: each device's line
// (online, the engine serving it, machine state, its current run and why it waits), and which runs a filter keeps.
import type { FleetDevice, RunStatus, RunStatusDocument } from '@labrun/contracts';
import { ENDED } from './activity.js';

export type { FleetDevice } from '@labrun/contracts';

/** Every run status, in the order a person goes through them; the compiler checks none is missing. */
export const RUN_STATUSES = ['idle', 'running', 'pausing', 'paused', 'blocked', 'awaiting-recovery', 'stopping', 'stopped', 'succeeded', 'failed'] as const satisfies readonly RunStatus[];
type Missing = Exclude<RunStatus, (typeof RUN_STATUSES)[number]>;
const everyStatus: [Missing] extends [never] ? true : Missing = true;
void everyStatus;

/** Runs that wait for a person. */
export const WAITING: readonly RunStatus[] = ['awaiting-recovery', 'paused', 'blocked'];

/** The status filter's choices beyond single statuses: runs not finished, and runs waiting for a person. */
export const STATUS_GROUPS = { unfinished: 'Not finished', waiting: 'Waiting' } as const;
export type StatusFilter = '' | keyof typeof STATUS_GROUPS | RunStatus;

export interface RunFilter {
  /** '' for every device. */
  deviceId: string;
  status: StatusFilter;
}

export function runMatches(run: RunStatusDocument, { deviceId, status }: RunFilter): boolean {
  if (deviceId !== '' && run.deviceId !== deviceId) return false;
  if (status === '') return true;
  if (status === 'unfinished') return !ENDED.includes(run.status);
  if (status === 'waiting') return WAITING.includes(run.status);
  return run.status === status;
}

/** Every device id the page knows, from the devices and from the runs, sorted. */
export function deviceIds(devices: readonly FleetDevice[], runs: Iterable<RunStatusDocument>): string[] {
  const ids = new Set(devices.map((d) => d.deviceId));
  for (const run of runs) ids.add(run.deviceId);
  return [...ids].sort();
}

export interface DeviceLine {
  /** "engine-1", or why no engine takes its runs. */
  engine: string;
  /** Whether an engine serves it: without one, a create for it is refused. */
  served: boolean;
  /** GRBL's state, or "no state" before the hardware service reported one. */
  machine: string;
  /** Its current run, or null. */
  run: { runId: string; name: string; status: RunStatus } | null;
  /** Why the current run waits (the pause message, the error), or null. */
  note: string | null;
}

export function deviceLine(device: FleetDevice): DeviceLine {
  const standby = device.standby.length ? ` (standing by: ${device.standby.join(', ')})` : '';
  const current = device.current;
  let note: string | null = null;
  if (current && (current.status === 'paused' || current.status === 'blocked' || current.status === 'pausing')) note = current.pause?.message ?? current.interlock?.message ?? null;
  else if (current && (current.status === 'awaiting-recovery' || current.status === 'failed')) note = current.error?.message ?? null;
  return {
    engine: device.engineId ? `engine ${device.engineId}${standby}` : `no engine serves it${standby}`,
    served: device.engineId !== null,
    machine: device.state?.machine ?? 'no state',
    run: current ? { runId: current.runId, name: current.name, status: current.status } : null,
    note,
  };
}
