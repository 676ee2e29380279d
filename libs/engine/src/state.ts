// The run's state: a fold of its events (see apply.ts). Plain data, never mutated once built.
import type { Command, InterlockInfo, PauseInfo, PauseMode, ProtocolDocument, RunError, RunEvent, RunStatus } from '@labrun/contracts';
import type { AppendOnly, AppendOnlyMap } from './append-only.js';

export interface CurrentCommand {
  index: number;
  type: Command['type'];
  startedAt: string;
}

/** A delay's countdown. It runs from `resumedAtMs` while the run runs, and is frozen (null) while paused. */
export interface DelayCountdown {
  index: number;
  seconds: number;
  message: string | null;
  /** Milliseconds left when the countdown last stopped or (re)started. */
  remainingMs: number;
  /** When the countdown last (re)started, or null while it is frozen. */
  resumedAtMs: number | null;
}

/** How a finished command ended. Commands run one at a time, in order, so outcome i is command i's. */
export interface CommandOutcome {
  startedAt: string;
  completedAt: string;
  error: { code: string; message: string } | null;
}

/** A user pause that is waiting for the machine to be safe (the current motion to end or hold). */
export interface PendingPause {
  by: string | null;
  message: string | null;
  mode: PauseMode;
}

export interface RunState {
  runId: string;
  deviceId: string;
  protocol: ProtocolDocument;
  status: RunStatus;
  pause: PauseInfo | null;
  /** The interlock holding the run while it is blocked. */
  interlock: InterlockInfo | null;
  pendingPause: PendingPause | null;
  delay: DelayCountdown | null;
  current: CurrentCommand | null;
  /** The index of the next command to start. */
  nextIndex: number;
  outcomes: AppendOnly<CommandOutcome>;
  error: RunError | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  seq: number;
  updatedAt: string;
  /** Answers to actions that carried a client id, so a repeated id is answered again and never applied twice. */
  answers: AppendOnlyMap<string, RunEvent>;
}

export const commandAt = (state: RunState, index: number): Command => state.protocol.commands[index]!;
export const isFinished = (state: RunState) => state.status === 'stopped' || state.status === 'succeeded' || state.status === 'failed';
