// apply(state, event) → state: how each fact changes a run. Pure and synchronous; the only place a
// run's state changes. Replaying a run's events through it rebuilds the run exactly.
import type { RunEvent, RunEventOf } from '@labrun/contracts';
import { append, emptyList, emptyMap, insert } from './append-only.js';
import type { RunState } from './state.js';
import { commandAt } from './state.js';

export function createState(event: RunEventOf<'run.created'>): RunState {
  return {
    runId: event.runId,
    deviceId: event.deviceId,
    protocol: event.protocol,
    status: 'idle',
    pause: null,
    interlock: null,
    pendingPause: null,
    delay: null,
    current: null,
    nextIndex: 0,
    outcomes: emptyList(),
    error: null,
    createdAt: event.at,
    startedAt: null,
    completedAt: null,
    seq: event.seq,
    updatedAt: event.at,
    answers: emptyMap(),
  };
}

export function apply(state: RunState, event: RunEvent): RunState {
  const next = { ...state, seq: event.seq, updatedAt: event.at };
  switch (event.type) {
    case 'run.created':
      throw new Error(`run ${state.runId} already exists`);
    case 'run.rejected':
      return next;
    case 'action.accepted':
      return remember(applyAction(next, event), event);
    case 'action.rejected':
      return remember(next, event);
    case 'command.started':
      return startCommand(next, event);
    case 'command.succeeded':
    case 'command.failed':
      return finishCommand(next, event);
    case 'motion.held':
      return holdMotion(next, event);
    case 'interlock.changed':
      return applyInterlock(next, event);
    case 'run.recovered':
      return freezeDelay({ ...next, status: 'paused', pendingPause: null, pause: { source: 'recovery', message: event.message, since: event.at, by: null } }, event.at);
  }
}

/** The feed hold a user pause asked for has stopped the machine: the run is paused, mid-move. */
function holdMotion(state: RunState, event: RunEventOf<'motion.held'>): RunState {
  if (state.status !== 'pausing' || !state.pendingPause || state.current?.index !== event.index) return state;
  const { message, by } = state.pendingPause;
  return { ...state, status: 'paused', pause: { source: 'user', message, by, since: event.at }, pendingPause: null };
}

function remember(state: RunState, event: RunEventOf<'action.accepted' | 'action.rejected'>): RunState {
  return { ...state, answers: insert(state.answers, event.actionId, event) };
}

const ms = (iso: string) => Date.parse(iso);

/** Stop a running countdown, keeping what is left of it. */
function freezeDelay(state: RunState, at: string): RunState {
  const delay = state.delay;
  if (!delay || delay.resumedAtMs === null) return state;
  const remainingMs = Math.max(0, delay.remainingMs - (ms(at) - delay.resumedAtMs));
  return { ...state, delay: { ...delay, remainingMs, resumedAtMs: null } };
}

function thawDelay(state: RunState, at: string): RunState {
  const delay = state.delay;
  if (!delay || delay.resumedAtMs !== null) return state;
  return { ...state, delay: { ...delay, resumedAtMs: ms(at) } };
}

function applyAction(state: RunState, event: RunEventOf<'action.accepted'>): RunState {
  switch (event.action) {
    case 'play':
    case 'resume':
      if (state.status === 'idle') return { ...state, status: 'running', startedAt: event.at };
      // Paused after its last command had ended (a hold that came as the last move finished): nothing is left.
      if (state.current === null && state.nextIndex >= state.protocol.commands.length) {
        return { ...state, status: 'succeeded', pause: null, pendingPause: null, completedAt: event.at };
      }
      return thawDelay({ ...state, status: 'running', pause: null, pendingPause: null }, event.at);
    case 'pause': {
      const pause = { source: 'user' as const, message: event.message, by: event.by };
      const motion = state.current && (state.current.type === 'move' || state.current.type === 'home');
      if (motion) {
        // Not safe yet: the machine is moving. The run is paused once the motion has ended (or held).
        return {
          ...state,
          status: 'pausing',
          pause: { ...pause, since: null },
          pendingPause: { by: event.by, message: event.message, mode: event.mode ?? 'immediate' },
        };
      }
      return freezeDelay({ ...state, status: 'paused', pause: { ...pause, since: event.at } }, event.at);
    }
    case 'stop':
      if (state.current === null) return { ...state, status: 'stopped', completedAt: event.at, pendingPause: null };
      return freezeDelay({ ...state, status: 'stopping', pendingPause: null }, event.at);
    case 'skip-delay':
      return state;
  }
}

function startCommand(state: RunState, event: RunEventOf<'command.started'>): RunState {
  const command = commandAt(state, event.index);
  const started = { ...state, current: { index: event.index, type: command.type, startedAt: event.at }, nextIndex: event.index + 1 };
  if (command.type === 'pause') {
    return {
      ...started,
      status: 'paused',
      pause: { source: 'protocol', message: command.params?.message ?? null, since: event.at, by: null },
    };
  }
  if (command.type === 'delay') {
    const { seconds, message } = command.params;
    return { ...started, delay: { index: event.index, seconds, message: message ?? null, remainingMs: seconds * 1000, resumedAtMs: ms(event.at) } };
  }
  return started;
}

function finishCommand(state: RunState, event: RunEventOf<'command.succeeded' | 'command.failed'>): RunState {
  const current = state.current;
  if (!current || current.index !== event.index) return state;
  const error = event.type === 'command.failed' ? { code: event.code, message: event.message } : null;
  const finished: RunState = {
    ...state,
    current: null,
    delay: null,
    outcomes: append(state.outcomes, { startedAt: current.startedAt, completedAt: event.at, error }),
  };
  const done = (status: 'stopped' | 'succeeded' | 'failed'): RunState => ({
    ...finished,
    status,
    pause: null,
    pendingPause: null,
    completedAt: event.at,
  });
  if (state.status === 'stopping') return done('stopped');
  if (error) return { ...done('failed'), error: { ...error, commandIndex: event.index } };
  if (state.status === 'pausing' && state.pendingPause) {
    // The motion the pause was waiting for has ended: the run is now paused (even after its last command: a
    // run someone paused waits for them, and only a resume finishes it).
    return { ...finished, status: 'paused', pause: { source: 'user', message: state.pendingPause.message, by: state.pendingPause.by, since: event.at }, pendingPause: null };
  }
  // Paused already (a feed hold stopped the machine) and the motion ended anyway: it stays paused.
  if (state.status === 'paused') return finished;
  if (finished.nextIndex >= state.protocol.commands.length) return done('succeeded');
  return finished;
}

function applyInterlock(state: RunState, event: RunEventOf<'interlock.changed'>): RunState {
  if (event.active) {
    if (state.status !== 'running' && state.status !== 'pausing' && state.status !== 'paused') return state;
    const interlock = { message: event.message, since: event.at };
    // A protocol's pause is still the reason the run waits: it stays, message and since, beside the interlock.
    if (protocolPauseIsCurrent(state)) return { ...state, status: 'blocked', interlock };
    return freezeDelay({ ...state, status: 'blocked', interlock, pendingPause: null, pause: { source: 'interlock', message: event.message, since: event.at, by: null } }, event.at);
  }
  if (state.status !== 'blocked') return state;
  // Clearing the interlock never restarts motion by itself: the run waits, paused, for an explicit resume.
  if (protocolPauseIsCurrent(state)) return { ...state, status: 'paused', interlock: null };
  return { ...state, status: 'paused', interlock: null, pause: { source: 'interlock', message: event.message, since: state.pause?.since ?? event.at, by: null } };
}

const protocolPauseIsCurrent = (state: RunState) => state.pause?.source === 'protocol' && state.current?.type === 'pause';
