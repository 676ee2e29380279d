// Run events: the facts published on run/<id>/events, numbered by `seq` within a run.
// The engine's state is a fold of exactly these events, so they are also what its journal records.
import { z } from 'zod';
import { ActionType, PauseMode } from './actions.js';
import { COMMAND_TYPES } from './protocol.js';
import { DeviceId, RunId } from './ids.js';
import { ProtocolDocument } from './protocol.js';
import { ErrorRecoveryPolicy, RECOVERY_OUTCOMES } from './error-recovery.js';

const base = {
  runId: RunId,
  /** Position in the run's history; 0 for answers that belong to no run (a create or action for an unknown run). */
  seq: z.number().int().nonnegative(),
  at: z.iso.datetime(),
};

export const RunCreated = z.strictObject({
  ...base,
  type: z.literal('run.created'),
  deviceId: DeviceId,
  protocol: ProtocolDocument,
  /** The run's error recovery policy, as given at create (absent: wait for the operator on every error). */
  errorRecovery: ErrorRecoveryPolicy.optional(),
});

export const RunRejected = z.strictObject({
  ...base,
  type: z.literal('run.rejected'),
  code: z.string(),
  message: z.string(),
});

export const ActionAccepted = z.strictObject({
  ...base,
  type: z.literal('action.accepted'),
  actionId: z.string(),
  action: ActionType,
  by: z.string().nullable(),
  message: z.string().nullable(),
  mode: PauseMode.nullable(),
});

export const ActionRejected = z.strictObject({
  ...base,
  type: z.literal('action.rejected'),
  actionId: z.string(),
  /** The action's type, or null when the payload was not a readable action at all. */
  action: z.string().nullable(),
  code: z.string(),
  message: z.string(),
});

const index = z.number().int().nonnegative();
/** Which attempt of the command, from the second on (a retry): absent means the first. */
const attempt = z.number().int().positive().optional();

export const CommandStarted = z.strictObject({
  ...base,
  type: z.literal('command.started'),
  index,
  attempt,
  commandType: z.enum(COMMAND_TYPES),
});

export const CommandSucceeded = z.strictObject({
  ...base,
  type: z.literal('command.succeeded'),
  index,
  attempt,
  /**
   * What the command found out: a motion command's machine state when it ended (position, ...), a wait's
   * matching message. Absent when there is nothing to report.
   */
  result: z.json().optional(),
});

export const CommandFailed = z.strictObject({
  ...base,
  type: z.literal('command.failed'),
  index,
  attempt,
  code: z.string(),
  message: z.string(),
  /** The controller lost its position: motion is not retried before the machine is homed. */
  positionLost: z.boolean().optional(),
  /**
   * What the run does about it, decided by its error recovery policy: `wait` for the operator (status
   * `awaiting-recovery`), `fail` the run, or `skip` the command (a `command.skipped` follows). Absent: `fail`
   * (a stop's failure, and journals written before error recovery).
   */
  recovery: z.enum(RECOVERY_OUTCOMES).optional(),
});

/** A failed command was skipped (by the operator's `skip`, or by the policy): the run goes on with the next one. */
export const CommandSkipped = z.strictObject({
  ...base,
  type: z.literal('command.skipped'),
  index,
  attempt,
  /** Who skipped it (the action's `by`), or null for the policy or an anonymous operator. */
  by: z.string().nullable(),
  message: z.string(),
});

/** A fixit action (`home`, `unlock`) carried out on the device while the run awaited recovery. */
export const FixitCompleted = z.strictObject({
  ...base,
  type: z.literal('fixit.completed'),
  action: z.enum(['home', 'unlock']),
  ok: z.boolean(),
  code: z.string().nullable(),
  message: z.string(),
});

/** The motion of a command was held (GRBL feed hold reached Hold:0): a pausing run is now paused. */
export const MotionHeld = z.strictObject({
  ...base,
  type: z.literal('motion.held'),
  index: z.number().int().nonnegative(),
});

/**
 * The engine restarted while the run was in progress: the run is paused (source recovery) with a message that
 * names the interrupted command, which is carried out again (a move re-sent, a delay continued) on resume.
 */
export const RunRecovered = z.strictObject({
  ...base,
  type: z.literal('run.recovered'),
  message: z.string(),
});

/** The machine's safety interlock (a door, a light curtain) closed or opened under a run. */
export const InterlockChanged = z.strictObject({
  ...base,
  type: z.literal('interlock.changed'),
  active: z.boolean(),
  message: z.string(),
});

export const RunEvent = z.discriminatedUnion('type', [
  RunCreated,
  RunRejected,
  ActionAccepted,
  ActionRejected,
  CommandStarted,
  CommandSucceeded,
  CommandFailed,
  CommandSkipped,
  FixitCompleted,
  MotionHeld,
  InterlockChanged,
  RunRecovered,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
