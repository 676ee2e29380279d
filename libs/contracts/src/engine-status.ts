// The engine's own retained status (`engine/<engineId>/status`): whether it can make runs durable. A journal
// that cannot write means the engine refuses creates and actions (`journal-unavailable`) until it can again.
import { z } from 'zod';

export const EngineStatus = z.strictObject({
  engineId: z.string(),
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
