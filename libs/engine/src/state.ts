// A run's state. `RunState` minus `io` is a fold of its events (apply.ts) and comes back whole from the journal;
// `io` is what the engine has in flight for it in the world (a device request, a hold, a timer), which a restart
// loses, and which step() alone changes. Plain data, never mutated once built.
import type { Command, CommandType, ErrorRecoveryPolicy, FixitAction, GcodeAccessories, PauseMode, PauseReason, ProtocolDocument, RunError, RunEvent, RunStatus } from '@labrun/contracts';
import { resolveMoves } from '@labrun/contracts';
import type { AppendOnly, AppendOnlyMap } from './append-only.js';
import type { ResolvedMoveCommand } from './commands/types.js';

/** One attempt at a command that has ended (the current attempt is `CurrentCommand.startedAt`). */
export interface EndedAttempt {
  attempt: number;
  startedAt: string;
  completedAt: string;
  error: { code: string; message: string } | null;
  result: unknown;
}

export interface CurrentCommand {
  index: number;
  type: CommandType;
  /** The current attempt: 1, then one more per retry. */
  attempt: number;
  /** When the current attempt started. */
  startedAt: string;
  /** When the command's first attempt started. */
  firstStartedAt: string;
  /** Its attempts that ended in failure before this one (empty for a command never retried). */
  failed: readonly EndedAttempt[];
  /** The current attempt failed and the run awaits recovery: it is not running. */
  failedNow: EndedAttempt | null;
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

/**
 * A protocol pause's or a wait's own time limit: it runs while the run waits for that command alone (a user's
 * pause on top, or the interlock, holds it), and ends the pause (resuming the run) or the wait (into recovery).
 */
export interface Timeout {
  index: number;
  seconds: number;
  remainingMs: number;
  /** When it last (re)started, or null while it is held. */
  resumedAtMs: number | null;
}

/**
 * How a command ended for good, kept by index (commands end in order, so record i is command i's). A command that
 * succeeded at its first attempt keeps no attempt list: a 100,000-command run keeps one small record per command.
 */
export interface CommandRecord {
  index: number;
  status: 'succeeded' | 'failed' | 'skipped';
  startedAt: string;
  completedAt: string;
  error: { code: string; message: string } | null;
  result: unknown;
  /** Every attempt, when there was more than one or the command was skipped; else null (the record is the one attempt). */
  attempts: readonly EndedAttempt[] | null;
  skippedBy?: string | null;
}

/** A run waiting for a person after a command failed. */
export interface Recovery {
  /** Motion is not retried before the machine has been homed: the controller lost its position. */
  needsHome: boolean;
  fixit: { action: FixitAction; ok: boolean | null; message: string | null; at: string } | null;
}

/**
 * What the engine has in flight for a run. Never journaled: after a restart a run starts with none (see
 * `restoredIo`), and step() makes the world match the run again.
 */
export interface Io {
  /** The device request carrying out the current command (`effectId`), and whether it is held (feed hold, door). */
  motion: { effectId: string; index: number; attempt: number; hold: 'none' | 'requested' | 'held'; holdId: string | null; aborting: boolean } | null;
  /** A fixit action's device request. */
  fixit: { effectId: string; action: FixitAction } | null;
  /** A hold of this run's stopped the machine and its motion ended anyway: the controller stays in Hold until cycle start. */
  deviceHeld: boolean;
  /** The cycle start sent for that, which the next device request waits for. */
  releasing: string | null;
  /** The current motion was sent before (by an engine that restarted): send cycle start before sending it again. */
  resend: boolean;
  /** The run goes on after recovery or a restart: set the device outputs to the run's levels first. */
  restoreOutputs: boolean;
  /** The timer of the running delay countdown or timeout. */
  timer: { id: string; index: number; for: 'delay' | 'timeout' } | null;
  /** The subscription a current wait-for listens on. */
  subscription: { id: string; topic: string; index: number; attempt: number } | null;
  /** A `continue` is due (long runs of instant commands yield to other work). */
  yielding: boolean;
  /** Why the journal cannot write, while it cannot: no new command starts then, and actions are refused. */
  journalProblem: string | null;
  /** The number of effects issued, for their ids. */
  effects: number;
}

export interface RunState {
  runId: string;
  deviceId: string;
  protocol: ProtocolDocument;
  errorRecovery: ErrorRecoveryPolicy | undefined;
  status: RunStatus;
  /** Every reason the run waits now, oldest first. A user pause still taking effect has `since: null`. */
  reasons: readonly PauseReason[];
  /** How the user pause still taking effect (status `pausing`) stops the machine. */
  pauseMode: PauseMode | null;
  /** The interlock while it is active. */
  interlock: { message: string; since: string } | null;
  delay: DelayCountdown | null;
  /** The current pause's or wait's own time limit. */
  timeout: Timeout | null;
  current: CurrentCommand | null;
  /** The index of the next command to start. */
  nextIndex: number;
  records: AppendOnly<CommandRecord>;
  /** Commands that succeeded or were skipped. */
  completed: number;
  error: RunError | null;
  recovery: Recovery | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  seq: number;
  updatedAt: string;
  /** Answers to actions that carried a client id, so a repeated id is answered again and never applied twice. */
  answers: AppendOnlyMap<string, RunEvent>;
  /**
   * The device outputs this run may have left on, by name, with the level it set (or was setting: an attempt that
   * failed may have switched it on all the same), and 0 once it switched one off. Switched off when the run ends.
   */
  outputs: Readonly<Record<string, number>>;
  /** What its raw G-code blocks may have switched on (M3/M4, M7/M8): switched off (M5, M9) when the run ends. */
  accessories: Readonly<GcodeAccessories>;
  io: Io;
}

/**
 * The command at `index`, as the run carries it out: a move carries its `target`, the device move its labware well
 * or relative offsets resolve to (resolveMoves, cached by protocol document, so a run resolves once).
 */
export function commandAt(state: RunState, index: number): Command {
  const command = state.protocol.commands[index]!;
  if (command.type !== 'move') return command;
  const resolved: ResolvedMoveCommand = { ...command, target: resolveMoves(state.protocol)[index]! };
  return resolved;
}
export const isFinished = (state: { status: RunStatus }) => state.status === 'stopped' || state.status === 'succeeded' || state.status === 'failed';
export const hasReason = (state: RunState, source: PauseReason['source']) => state.reasons.some((r) => r.source === source);

export const initialIo = (): Io => ({
  motion: null,
  fixit: null,
  deviceHeld: false,
  releasing: null,
  resend: false,
  restoreOutputs: false,
  timer: null,
  subscription: null,
  yielding: false,
  journalProblem: null,
  effects: 0,
});
