// The engine's own retained status (`engine/<engineId>/status`): whether it can make runs durable. A journal
// that cannot write means the engine refuses creates and actions (`journal-unavailable`) until it can again.
import { z } from 'zod';
import { DeviceId, EngineId } from './ids.js';
import type { HardwareState } from './hardware.js';
import type { RunStatusDocument } from './run-status.js';

export const EngineStatus = z.strictObject({
  engineId: z.string(),
  /**
   * The devices this engine serves: it alone carries out their runs and answers for them. Whether the engine is
   * online is `engine/<id>/online` (`true`, or `false` as its last will): a status left retained by an engine
   * that is gone still lists them. Absent from engines before fleets.
   */
  devices: z.array(DeviceId).optional(),
  /**
   * Devices this engine is configured for (ENGINE_DEVICES) that another online engine served first: it carries out
   * none of their runs, and takes each over once that engine is offline.
   */
  standby: z.array(z.strictObject({ deviceId: DeviceId, servedBy: EngineId })).optional(),
  /** When this engine came online: of two engines claiming a device, the earlier keeps it (then the lower id). */
  onlineSince: z.iso.datetime().optional(),
  journal: z.strictObject({
    /** Whether the last commit reached the disk. */
    writable: z.boolean(),
    /** Why it cannot write (the operating system's words), or null. */
    error: z.string().nullable(),
    /** When it became as it is now. */
    since: z.iso.datetime(),
  }),
  /** Runs the engine holds that have not finished, and the most it takes (beyond it a create gets `too-many-runs`). */
  activeRuns: z.number().int().nonnegative(),
  maxActiveRuns: z.number().int().positive(),
  at: z.iso.datetime(),
});
export type EngineStatus = z.infer<typeof EngineStatus>;

/**
 * Of two engines claiming one device, whether `a` keeps it: the one online first, then (online at the same instant)
 * the lower id. An engine without `onlineSince` (from before fleets) counts as online first. The engines decide who
 * serves a device by it, and the gateway says who does by the same rule.
 */
export function claimsFirst(a: { engineId: string; onlineSince: string | null }, b: { engineId: string; onlineSince: string | null }): boolean {
  const [sinceA, sinceB] = [a.onlineSince ?? '', b.onlineSince ?? ''];
  return sinceA < sinceB || (sinceA === sinceB && a.engineId < b.engineId);
}

/**
 * One device of a fleet as the gateway shows it (`GET /devices`, the dashboard's `devices` event): its hardware
 * service's online flag and state, the engine serving it, the engines standing by for it, and its current run.
 */
export interface FleetDevice {
  deviceId: string;
  /** Its hardware service's `hw/<id>/online` flag; false until one was seen. */
  online: boolean;
  /** Its hardware state; null until one was seen. */
  state: HardwareState | null;
  /** The online engine serving it, or null when none does (its runs cannot be created then). */
  engineId: string | null;
  /** Online engines configured for it that stand by while another serves it. */
  standby: string[];
  /** The status of its current run (the run on it now, else the last one to finish), or null. */
  current: RunStatusDocument | null;
}
