// The status document: retained on run/<id>/status and republished on every change.
// It answers "what is the run doing, and why is it not moving?" without any other message.
import { z } from 'zod';
import { ActionType } from './actions.js';
import { COMMAND_TYPES } from './protocol.js';
import { DeviceId, RunId } from './ids.js';

export const RUN_STATUSES = ['idle', 'running', 'pausing', 'paused', 'blocked', 'stopping', 'stopped', 'succeeded', 'failed'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;
export const FINISHED_STATUSES: readonly RunStatus[] = ['stopped', 'succeeded', 'failed'];

export const PAUSE_SOURCES = ['protocol', 'user', 'interlock', 'recovery'] as const;
export const PauseSource = z.enum(PAUSE_SOURCES);
export type PauseSource = z.infer<typeof PauseSource>;

const isoTime = z.iso.datetime();

export const PauseInfo = z.strictObject({
  source: PauseSource,
  message: z.string().nullable(),
  /** When the run stopped moving (for a pause still taking effect: null). */
  since: isoTime.nullable(),
  /** Who asked for the pause (a user pause's `by`), or null. */
  by: z.string().nullable(),
});
export type PauseInfo = z.infer<typeof PauseInfo>;

export const DelayInfo = z.strictObject({
  index: z.number().int().nonnegative(),
  seconds: z.number().positive(),
  message: z.string().nullable(),
  /** Seconds left as of the document's `updatedAt`. */
  remainingSeconds: z.number().nonnegative(),
  /** When the delay ends if nothing pauses it; null while the countdown is frozen. */
  endsAt: isoTime.nullable(),
});
export type DelayInfo = z.infer<typeof DelayInfo>;

export const CurrentCommand = z.strictObject({
  index: z.number().int().nonnegative(),
  type: z.enum(COMMAND_TYPES),
  startedAt: isoTime,
});


/** The safety interlock (door open, controller or hardware service gone) holding a blocked run. */
export const InterlockInfo = z.strictObject({ message: z.string(), since: isoTime });
export type InterlockInfo = z.infer<typeof InterlockInfo>;

export const RunError = z.strictObject({ code: z.string(), message: z.string(), commandIndex: z.number().int().nullable() });
export type RunError = z.infer<typeof RunError>;

export const RunStatusDocument = z.strictObject({
  runId: RunId,
  name: z.string(),
  deviceId: DeviceId,
  status: RunStatus,
  pause: PauseInfo.nullable(),
  /**
   * While the run is `blocked`: the interlock that blocks it. Beside `pause`, not instead of it: a protocol's
   * pause stays there (its message and since) while the interlock holds the run too.
   */
  interlock: InterlockInfo.nullable(),
  delay: DelayInfo.nullable(),
  current: CurrentCommand.nullable(),
  progress: z.strictObject({ completed: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
  allowedActions: z.array(ActionType),
  error: RunError.nullable(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  completedAt: isoTime.nullable(),
  seq: z.number().int().nonnegative(),
  updatedAt: isoTime,
});
export type RunStatusDocument = z.infer<typeof RunStatusDocument>;
