// Which actions a run takes now, and why it refuses the others: a reason code and a message a person can read.
// step() consults it for every action; the status document's `allowedActions` is exactly what it accepts.
import { ACTION_TYPES, type ActionRejectionCode, type ActionType, type RunEvent } from '@labrun/contracts';
import { commandModule } from './commands/index.js';
import type { RunState } from './state.js';
import { isFinished } from './state.js';

/** An event as step() decides it: it stamps runId, seq and time when it applies it. */
export type NewEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'runId' | 'seq' | 'at'> : never) : never;

/** The codes a run's own state gives; the others (unknown-run, invalid-action, …) are answered outside its history. */
export type RejectionCode = Exclude<ActionRejectionCode, 'unknown-run' | 'invalid-action' | 'retained' | 'journal-unavailable'>;

export interface Refusal {
  code: RejectionCode;
  message: string;
}

/** The reason an action of this type would be refused now, or null if it would be accepted. */
export function whyNot(state: RunState, type: ActionType): Refusal | null {
  const { status } = state;
  const refuse = (code: RejectionCode, why: string) => ({ code, message: `cannot ${type} run ${state.runId}: ${why}` });
  if (isFinished(state)) return refuse('run-finished', `it has already ${status === 'succeeded' ? 'succeeded' : status}`);
  if (status === 'stopping') return type === 'stop' ? refuse('stopping', 'it is already stopping') : refuse('stopping', 'it is stopping');
  if (type === 'stop') return null;
  if (status === 'awaiting-recovery') return whyNotInRecovery(state, type, refuse);
  if (type === 'retry' || type === 'skip' || type === 'home' || type === 'unlock') {
    return refuse('not-awaiting-recovery', `no command has failed (it is ${status}); ${type} is for a run awaiting recovery`);
  }
  if (status === 'blocked') {
    const cause = state.interlock?.message;
    const why = cause ? `the interlock is active (${cause})` : 'the interlock is active';
    return type === 'pause' ? refuse('already-paused', `it is already stopped by the interlock`) : refuse('interlock-active', why);
  }
  switch (type) {
    case 'play':
      if (status === 'idle' || status === 'paused') return null;
      return status === 'pausing' ? refuse('not-paused', 'it is pausing, not paused') : refuse('already-running', 'it is already running');
    case 'resume':
      if (status === 'paused') return null;
      if (status === 'idle') return refuse('not-started', 'it has not been started (use play)');
      return refuse('not-paused', `it is ${status}, not paused`);
    case 'pause':
      if (status === 'running') return null;
      // A pause that resumes by itself, or a wait for another instrument: a user's pause on top holds it.
      if (status === 'paused' && (state.timeout !== null || state.reasons.some((r) => r.source === 'external')) && !state.reasons.some((r) => r.source === 'user')) return null;
      if (status === 'idle') return refuse('not-started', 'it has not been started');
      return refuse('already-paused', `it is already ${status}`);
    case 'skip-delay':
      if ((status === 'running' || status === 'paused') && state.current?.type === 'delay') return null;
      return refuse('no-delay', 'no delay is in progress');
  }
}

function whyNotInRecovery(state: RunState, type: ActionType, refuse: (code: RejectionCode, why: string) => Refusal): Refusal | null {
  const current = state.current!;
  const failed = `command ${current.index + 1} (${current.type}) failed`;
  const fixit = state.recovery?.fixit;
  if (type === 'play' || type === 'resume' || type === 'pause' || type === 'skip-delay') {
    const open = (['retry', 'skip', 'home', 'unlock', 'stop'] as const).filter((t) => t === 'stop' || whyNotInRecovery(state, t, refuse) === null);
    return refuse('awaiting-recovery', `it is awaiting recovery: ${failed}; ${open.slice(0, -1).join(', ')}${open.length > 1 ? ' or ' : ''}${open.at(-1)}`);
  }
  if (fixit && fixit.ok === null) return refuse('fixit-in-progress', `${fixit.action} is still in progress; wait for it to finish`);
  if (type === 'skip') return null;
  if (state.interlock) return refuse('interlock-active', `the interlock is active (${state.interlock.message})`);
  if (type === 'retry' && state.recovery?.needsHome && commandModule(current.type).kind === 'motion') {
    return refuse('needs-home', `the controller lost its position when ${failed}: home the machine first (action home), then retry`);
  }
  return null;
}

/** Exactly the action types step() would accept now. */
export function allowedActions(state: RunState): ActionType[] {
  return ACTION_TYPES.filter((type) => whyNot(state, type) === null);
}
