// The status document: retained on run/<id>/status and republished on every change.
// It answers "what is the run doing, and why is it not moving?" without any other message.
import { z } from 'zod';
import { ActionType } from './actions.js';
import { COMMAND_TYPES } from './protocol.js';
import { DeviceId, EngineId, RunId } from './ids.js';

export const RUN_STATUSES = ['idle', 'running', 'pausing', 'paused', 'blocked', 'awaiting-recovery', 'stopping', 'stopped', 'succeeded', 'failed'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;
export const FINISHED_STATUSES: readonly RunStatus[] = ['stopped', 'succeeded', 'failed'];

/**
 * Why a run waits: its protocol paused it, a user did, the interlock holds it (or held it, and it waits for a
 * resume), the engine restarted under it (recovery), a command failed (error), or it waits for another instrument
 * (external).
 */
export const PAUSE_SOURCES = ['protocol', 'user', 'interlock', 'recovery', 'error', 'external'] as const;
export const PauseSource = z.enum(PAUSE_SOURCES);
export type PauseSource = z.infer<typeof PauseSource>;

const isoTime = z.iso.datetime();

const pauseReason = {
  source: PauseSource,
  message: z.string().nullable(),
  /** When the run stopped moving (for a pause still taking effect: null). */
  since: isoTime.nullable(),
  /** Who asked for the pause (a user pause's `by`), or null. */
  by: z.string().nullable(),
  /**
   * When it ends by itself: a protocol pause with `timeoutSeconds` (it resumes the run), an external wait with one
   * (it gives up); null while its countdown is held (a user's pause on top). Absent for reasons with no end of their own.
   */
  resumesAt: isoTime.nullable().optional(),
};

/** One reason a run waits. */
export const PauseReason = z.strictObject(pauseReason);
export type PauseReason = z.infer<typeof PauseReason>;

/**
 * The headline reason a run waits (source, message, since, by), and every reason that holds it now in `reasons`
 * (oldest first): a protocol's pause, a user's, the interlock, an error, ... stack instead of replacing each other,
 * and the headline is the one that decides what the run needs next (an error, then the protocol's pause, the interlock,
 * an external wait, a restart's, a user's).
 */
export const PauseInfo = z.strictObject({ ...pauseReason, reasons: z.array(PauseReason) });
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

export const RunError = z.strictObject({
  code: z.string(),
  /** The controller's own words and what to do. */
  message: z.string(),
  commandIndex: z.number().int().nullable(),
  /** Which attempt of that command failed (1 for the first). */
  attempt: z.number().int().positive().optional(),
  /** The controller lost its position (a hard limit, a reset): it must be homed before motion is retried. */
  positionLost: z.boolean().optional(),
});
export type RunError = z.infer<typeof RunError>;

export const FixitInfo = z.strictObject({
  action: z.enum(['home', 'unlock']),
  /** null while it is being carried out. */
  ok: z.boolean().nullable(),
  message: z.string().nullable(),
  at: isoTime,
});

/** While a run awaits recovery: what the operator has done and what the machine needs. */
export const RecoveryInfo = z.strictObject({
  /** The failed command's attempt. */
  attempt: z.number().int().positive(),
  /** A retry of motion is refused until the machine has been homed (its position was lost). */
  needsHome: z.boolean(),
  /** The fixit action in progress, or the last one done, with how it went. */
  fixit: FixitInfo.nullable(),
});
export type RecoveryInfo = z.infer<typeof RecoveryInfo>;

export const RunStatusDocument = z.strictObject({
  runId: RunId,
  name: z.string(),
  deviceId: DeviceId,
  /** The engine that carries the run out (the one serving its device). Absent from engines before fleets. */
  engineId: EngineId.optional(),
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
  /** While `awaiting-recovery`: what the operator has done and what the machine needs; otherwise null. */
  recovery: RecoveryInfo.nullable(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  completedAt: isoTime.nullable(),
  seq: z.number().int().nonnegative(),
  updatedAt: isoTime,
});
export type RunStatusDocument = z.infer<typeof RunStatusDocument>;
