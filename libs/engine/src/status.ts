// The run's public status document, derived from its state.
import type { PauseInfo, PauseReason, RunStatusDocument } from '@labrun/contracts';
import { allowedActions } from './decide.js';
import type { RunState } from './state.js';
import { remainingMs, timeoutRemainingMs } from './step.js';

/** Which reason heads the list: the one that decides what the run needs next. */
const HEADLINE: Record<PauseReason['source'], number> = { error: 0, protocol: 1, interlock: 2, external: 3, recovery: 4, user: 5 };

export function pauseInfo(reasons: readonly PauseReason[]): PauseInfo | null {
  if (reasons.length === 0) return null;
  let headline = reasons[0]!;
  for (const r of reasons) if (HEADLINE[r.source] < HEADLINE[headline.source]) headline = r;
  return { ...headline, reasons: [...reasons] };
}

/** The reasons, the one whose command has a time limit saying when it ends (null while held). */
function withResumesAt(state: RunState, asOf: number): readonly PauseReason[] {
  const timeout = state.timeout;
  if (!timeout) return state.reasons;
  const resumesAt = timeout.resumedAtMs === null ? null : new Date(asOf + timeoutRemainingMs(state, asOf)).toISOString();
  return state.reasons.map((r) => (r.source === 'protocol' || r.source === 'external' ? { ...r, resumesAt } : r));
}

export function toStatusDocument(state: RunState): RunStatusDocument {
  const asOf = Date.parse(state.updatedAt);
  const delay = state.delay;
  const remaining = remainingMs(state, asOf);
  const current = state.current;
  return {
    runId: state.runId,
    name: state.protocol.metadata.name,
    deviceId: state.deviceId,
    status: state.status,
    pause: pauseInfo(withResumesAt(state, asOf)),
    interlock: state.status === 'blocked' || state.status === 'awaiting-recovery' ? state.interlock : null,
    delay: delay
      ? {
          index: delay.index,
          seconds: delay.seconds,
          message: delay.message,
          remainingSeconds: remaining / 1000,
          endsAt: delay.resumedAtMs === null ? null : new Date(asOf + remaining).toISOString(),
        }
      : null,
    current: current ? { index: current.index, type: current.type, startedAt: current.startedAt } : null,
    progress: { completed: state.completed, total: state.protocol.commands.length },
    allowedActions: allowedActions(state),
    error: state.error,
    recovery: state.status === 'awaiting-recovery' && state.recovery && current ? { attempt: current.attempt, needsHome: state.recovery.needsHome, fixit: state.recovery.fixit } : null,
    createdAt: state.createdAt,
    startedAt: state.startedAt,
    completedAt: state.completedAt,
    seq: state.seq,
    updatedAt: state.updatedAt,
  };
}
