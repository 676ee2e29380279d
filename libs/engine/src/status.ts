// The run's public status document, derived from its state.
import type { RunStatusDocument } from '@labrun/contracts';
import { allowedActions } from './decide.js';
import type { RunState } from './state.js';
import { at } from './append-only.js';

/** Seconds left on the run's delay at `atMs` (frozen countdowns do not move). */
export function delayRemainingMs(state: RunState, atMs: number): number | null {
  const delay = state.delay;
  if (!delay) return null;
  if (delay.resumedAtMs === null) return delay.remainingMs;
  return Math.max(0, delay.remainingMs - (atMs - delay.resumedAtMs));
}

export function toStatusDocument(state: RunState): RunStatusDocument {
  const asOf = Date.parse(state.updatedAt);
  const remaining = delayRemainingMs(state, asOf);
  const delay = state.delay;
  return {
    runId: state.runId,
    name: state.protocol.metadata.name,
    deviceId: state.deviceId,
    status: state.status,
    pause: state.pause ? { ...state.pause, reasons: [state.pause] } : null,
    interlock: state.status === 'blocked' ? state.interlock : null,
    delay:
      delay && remaining !== null
        ? {
            index: delay.index,
            seconds: delay.seconds,
            message: delay.message,
            remainingSeconds: remaining / 1000,
            endsAt: delay.resumedAtMs === null ? null : new Date(asOf + remaining).toISOString(),
          }
        : null,
    current: state.current,
    progress: { completed: completedCount(state), total: state.protocol.commands.length },
    allowedActions: allowedActions(state),
    error: state.error,
    recovery: null,
    createdAt: state.createdAt,
    startedAt: state.startedAt,
    completedAt: state.completedAt,
    seq: state.seq,
    updatedAt: state.updatedAt,
  };
}

/** Commands that succeeded: every outcome but a failed last one (a run ends at its first failure). */
function completedCount(state: RunState): number {
  const last = at(state.outcomes, state.outcomes.length - 1);
  return state.outcomes.length - (last?.error ? 1 : 0);
}
