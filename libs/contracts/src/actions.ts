// Run actions: what a client publishes to run/<id>/actions, as JSON or as the bare word.
import { z } from 'zod';
import { ActionId } from './ids.js';

export const ACTION_TYPES = ['play', 'pause', 'resume', 'stop', 'skip-delay', 'retry', 'skip', 'home', 'unlock'] as const;
export const ActionType = z.enum(ACTION_TYPES, {
  error: () => `unknown action: expected one of ${ACTION_TYPES.join(', ')}`,
});
export type ActionType = z.infer<typeof ActionType>;

/** Actions that only work while a run awaits recovery from a failed command. */
export const RECOVERY_ACTIONS = ['retry', 'skip', 'home', 'unlock'] as const satisfies readonly ActionType[];
/** Recovery actions that act on the device for the operator (fixit actions): they do not leave recovery by themselves. */
export const FIXIT_ACTIONS = ['home', 'unlock'] as const satisfies readonly ActionType[];
export type FixitAction = (typeof FIXIT_ACTIONS)[number];

/**
 * Why an engine refuses an action (`action.rejected`'s `code`): the run's state does not allow it (the engine's
 * decide.ts), or, outside any run's history (seq 0), no such run, an unreadable payload, a retained publish, a
 * journal that cannot write. docs/mqtt-contract.md explains each.
 */
export const ACTION_REJECTION_CODES = [
  'not-started',
  'already-running',
  'not-paused',
  'already-paused',
  'no-delay',
  'interlock-active',
  'awaiting-recovery',
  'not-awaiting-recovery',
  'needs-home',
  'fixit-in-progress',
  'stopping',
  'run-finished',
  'unknown-run',
  'invalid-action',
  'retained',
  'journal-unavailable',
] as const;
export type ActionRejectionCode = (typeof ACTION_REJECTION_CODES)[number];

/** How a user pause takes effect: hold motion now (GRBL feed hold), or let the current command finish. */
export const PauseMode = z.enum(['immediate', 'deferred']);
export type PauseMode = z.infer<typeof PauseMode>;

export const RunAction = z
  .strictObject({
    type: ActionType,
    /** Chosen by the client; an id already seen is answered again, never applied twice. */
    id: ActionId.optional(),
    /** Who acts: an operator's name, a LIMS, a script. Shown in the pause banner. */
    by: z.string().max(200).optional(),
    message: z.string().max(2000).optional(),
    mode: PauseMode.optional(),
  })
  .refine((a) => a.mode === undefined || a.type === 'pause', { error: 'mode is only valid for a pause action', path: ['mode'] });
export type RunAction = z.infer<typeof RunAction>;

export const isBareAction = (word: string): word is ActionType => (ACTION_TYPES as readonly string[]).includes(word);
