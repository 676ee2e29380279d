// decide(state, action) → the events that accepting it produces, or a rejection with a reason code and
// a message a person can read. Pure: it never changes the state; apply() does that with the events.
import { ACTION_TYPES, type ActionType, type RunAction, type RunEvent } from '@labrun/contracts';
import type { RunState } from './state.js';
import { isFinished } from './state.js';
import { lookup } from './append-only.js';

/** An event as decide() produces it: the engine stamps runId, seq and time when it commits it. */
export type NewEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'runId' | 'seq' | 'at'> : never) : never;

export type RejectionCode =
  | 'run-finished'
  | 'not-started'
  | 'not-paused'
  | 'already-running'
  | 'already-paused'
  | 'interlock-active'
  | 'stopping'
  | 'no-delay';

export type Decision =
  | { accepted: true; events: NewEvent[] }
  | { accepted: false; code: RejectionCode; message: string }
  /** The action's id was seen before: here is the answer it got then. */
  | { accepted: 'duplicate'; answer: RunEvent };

const STOPPED_MESSAGE = 'run stopped';

export function decide(state: RunState, action: RunAction, actionId: string): Decision {
  const previous = lookup(state.answers, actionId);
  if (previous) return { accepted: 'duplicate', answer: previous };

  const rejection = whyNot(state, action.type);
  if (rejection) return { accepted: false, ...rejection };

  const accepted: NewEvent = {
    type: 'action.accepted',
    actionId,
    action: action.type,
    by: action.by ?? null,
    message: action.message ?? null,
    mode: action.type === 'pause' ? (action.mode ?? 'immediate') : null,
  };
  const current = state.current;
  switch (action.type) {
    case 'play':
    case 'resume':
      // A protocol pause completes when the run is resumed.
      if (current?.type === 'pause') return { accepted: true, events: [accepted, { type: 'command.succeeded', index: current.index }] };
      return { accepted: true, events: [accepted] };
    case 'stop':
      // A pause or a delay has nothing outside the engine to interrupt: it fails now. Motion fails when the
      // hardware has stopped it.
      if (current?.type === 'pause' || current?.type === 'delay') {
        return { accepted: true, events: [accepted, { type: 'command.failed', index: current.index, code: 'stopped', message: STOPPED_MESSAGE }] };
      }
      return { accepted: true, events: [accepted] };
    case 'skip-delay':
      return { accepted: true, events: [accepted, { type: 'command.succeeded', index: current!.index }] };
    case 'pause':
      return { accepted: true, events: [accepted] };
  }
}

/** The reason an action of this type would be refused now, or null if it would be accepted. */
function whyNot(state: RunState, type: ActionType): { code: RejectionCode; message: string } | null {
  const { status } = state;
  const refuse = (code: RejectionCode, why: string) => ({ code, message: `cannot ${type} run ${state.runId}: ${why}` });
  if (isFinished(state)) return refuse('run-finished', `it has already ${status === 'succeeded' ? 'succeeded' : status}`);
  if (status === 'stopping') return type === 'stop' ? refuse('stopping', 'it is already stopping') : refuse('stopping', 'it is stopping');
  if (type === 'stop') return null;
  if (status === 'blocked') {
    const cause = state.interlock?.message ?? state.pause?.message;
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
      if (status === 'idle') return refuse('not-started', 'it has not been started');
      return refuse('already-paused', `it is already ${status}`);
    case 'skip-delay':
      if ((status === 'running' || status === 'paused') && state.current?.type === 'delay') return null;
      return refuse('no-delay', 'no delay is in progress');
  }
}

/** Exactly the action types decide() would accept now. */
export function allowedActions(state: RunState): ActionType[] {
  return ACTION_TYPES.filter((type) => whyNot(state, type) === null);
}
