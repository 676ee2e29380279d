// The commands document: retained on run/<id>/commands — every command of the run with how it went, for
// command lists (Opentrons' GET /runs/:id/commands). Republished as commands start and finish, at most a
// few times a second (a 100,000-command run must not publish 100,000 copies of itself).
import { z } from 'zod';
import { Command } from './protocol.js';
import { RunId } from './ids.js';

export const COMMAND_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped'] as const;
export const CommandStatus = z.enum(COMMAND_STATUSES);
export type CommandStatus = z.infer<typeof CommandStatus>;

const time = z.iso.datetime();
const commandError = z.strictObject({ code: z.string(), message: z.string() });

/** One attempt at a command: the first, and one more for each retry. */
export const CommandAttempt = z.strictObject({
  attempt: z.number().int().positive(),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: time,
  completedAt: time.nullable(),
  error: commandError.nullable(),
  result: z.json().nullable(),
});
export type CommandAttempt = z.infer<typeof CommandAttempt>;

export const RunCommand = z.strictObject({
  index: z.number().int().nonnegative(),
  command: Command,
  /** How it went in the end: `failed` once and `succeeded` on retry reads `succeeded`; `attempts` keeps both. */
  status: CommandStatus,
  /** Its first attempt's start and its last attempt's end. */
  startedAt: time.nullable(),
  completedAt: time.nullable(),
  /** The last attempt's error, while it is failed or was skipped after failing. */
  error: commandError.nullable(),
  /** What it found out (the last successful attempt's result); absent when there is nothing. */
  result: z.json().optional(),
  /**
   * Every attempt, oldest first — present when there was more than one (a retry) or the command was skipped.
   * Absent otherwise: the command's own status, times, error and result are its one attempt (a 100,000-command
   * document stays the size it was before retries existed).
   */
  attempts: z.array(CommandAttempt).optional(),
  /** Set when it was skipped: who skipped it, or null (the policy or an anonymous operator). */
  skippedBy: z.string().nullable().optional(),
});
export type RunCommand = z.infer<typeof RunCommand>;

export const RunCommandsDocument = z.strictObject({
  runId: RunId,
  /** The seq of the last event reflected here (the status document's seq may be ahead). */
  seq: z.number().int().nonnegative(),
  commands: z.array(RunCommand),
});
export type RunCommandsDocument = z.infer<typeof RunCommandsDocument>;
