// Run events: the facts published on run/<id>/events, numbered by `seq` within a run.
// The engine's state is a fold of exactly these events, so they are also what its journal records.
import { z } from 'zod';
import { ActionType, PauseMode } from './actions.js';
import { COMMAND_TYPES } from './protocol.js';
import { DeviceId, RunId } from './ids.js';
import { ProtocolDocument } from './protocol.js';

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

export const CommandStarted = z.strictObject({
  ...base,
  type: z.literal('command.started'),
  index: z.number().int().nonnegative(),
  commandType: z.enum(COMMAND_TYPES),
});

export const CommandSucceeded = z.strictObject({
  ...base,
  type: z.literal('command.succeeded'),
  index: z.number().int().nonnegative(),
});

export const CommandFailed = z.strictObject({
  ...base,
  type: z.literal('command.failed'),
  index: z.number().int().nonnegative(),
  code: z.string(),
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
  MotionHeld,
  InterlockChanged,
  RunRecovered,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
