// The commands document: retained on run/<id>/commands — every command of the run with how it went, for
// command lists (Opentrons' GET /runs/:id/commands). Republished as commands start and finish, at most a
// few times a second (a 100,000-command run must not publish 100,000 copies of itself).
import { z } from 'zod';
import { Command } from './protocol.js';
import { RunId } from './ids.js';

export const COMMAND_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

export const RunCommand = z.strictObject({
  index: z.number().int().nonnegative(),
  command: Command,
  status: z.enum(COMMAND_STATUSES),
  startedAt: z.iso.datetime().nullable(),
  completedAt: z.iso.datetime().nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
});
export type RunCommand = z.infer<typeof RunCommand>;

export const RunCommandsDocument = z.strictObject({
  runId: RunId,
  /** The seq of the last event reflected here (the status document's seq may be ahead). */
  seq: z.number().int().nonnegative(),
  commands: z.array(RunCommand),
});
export type RunCommandsDocument = z.infer<typeof RunCommandsDocument>;
