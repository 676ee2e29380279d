// step(state, input) → { state, events, effects, replies }: every decision about a run, in one pure function.
// An input is something that happened (an action arrived, the device answered, a timer fired, the interlock
// changed, the engine restarted); the output is the events to journal and publish (already applied to the new
// state), the effects to carry out in the world, each with an id its result comes back with, and answers to give
// that are not part of the run's history (a repeated action id's earlier answer, a refusal while the journal
// cannot write). In the spirit of xstate's pure transition(): the Engine only interprets effects and publishes.
import type { CommandType, HardwareState, RunAction, RunEvent } from '@labrun/contracts';
import { recoveryFor, topicMatches } from '@labrun/contracts';
import { isDeepStrictEqual } from 'node:util';
import { at, lookup } from './append-only.js';
import { apply } from './apply.js';
import { commandModule, type HardwareCommand } from './commands/index.js';
import { whyNot, type NewEvent } from './decide.js';
import { recoveryEvents } from './recovery.js';
import { commandAt, isFinished, type Io, type RunState } from './state.js';

export interface HardwareFailure {
  code: string;
  message: string;
  positionLost?: boolean | undefined;
}

/** What happened. `at` is when (ISO 8601): every event the step produces carries it. */
export type Input = { at: string } & (
  | { type: 'action'; action: RunAction; actionId: string }
  /** A device request (perform, hold, release) ended: with the machine's state, or why it failed. */
  | { type: 'result'; effectId: string; ok: true; data?: HardwareState | undefined }
  | { type: 'result'; effectId: string; ok: false; error: HardwareFailure }
  | { type: 'timer'; timerId: string }
  | { type: 'interlock'; active: boolean; message: string }
  /** The journal stopped taking writes (`problem` says why, in words for a refused sender), or takes them again (null). */
  | { type: 'journal'; problem: string | null }
  /** An action payload that could not be read (`message` says why). */
  | { type: 'unreadable-action'; actionId: string; message: string }
  /** The run was just rebuilt from the journal by an engine that restarted. */
  | { type: 'restored' }
  /** The turn the run yielded (`yield`) has come. */
  | { type: 'continue' }
  /** A message from another system on a topic a wait-for subscribed to; `retained` when the broker kept it from before. */
  | { type: 'external'; topic: string; payload: string; retained: boolean }
);

export type Effect =
  /** Send a request to the device; its result comes back as a `result` input with this id. After `after` (a release) has ended. */
  | { kind: 'perform'; id: string; deviceId: string; request: HardwareCommand; after: string | null }
  /** Feed hold; its result comes back as a `result` input. */
  | { kind: 'hold'; id: string; deviceId: string }
  /** Cycle start. Its result is not needed: a `perform` that must wait for it names it in `after`. */
  | { kind: 'release'; id: string; deviceId: string }
  /** Stop the device request `id` (a perform) now. */
  | { kind: 'abort'; id: string }
  /** Fire a `timer` input with this id after `ms`. */
  | { kind: 'start-timer'; id: string; ms: number }
  | { kind: 'cancel-timer'; id: string }
  /** Give other work a turn, then send a `continue` input. */
  | { kind: 'yield'; id: string }
  /** Publish a message for another system (a protocol's `publish`). */
  | { kind: 'publish'; id: string; topic: string; payload: string; retain: boolean }
  /** Listen on a topic filter for a wait-for: its messages come back as `external` inputs. */
  | { kind: 'subscribe'; id: string; topic: string }
  /** Stop listening for the subscription `id`. */
  | { kind: 'unsubscribe'; id: string; topic: string };

export interface Step {
  state: RunState;
  events: RunEvent[];
  effects: Effect[];
  replies: RunEvent[];
  /**
   * An action's own answer, when the step went on past it: the number of events that answer the action (accepted,
   * and what it ends at once) and the state they left. The run's status is published for it before the rest (a
   * resume is answered `running` before the next command's status), as a client waiting for the answer expects.
   */
  answer?: { events: number; state: RunState };
}

/** What starting the current command means (its module's start plan): what the run waits for, or asks the device. */
const planOf = (state: RunState, current: { index: number; type: CommandType }) => commandModule(current.type).start(commandAt(state, current.index) as never);

/** Which command and attempt an event is about: the attempt only from the second on (absent means the first). */
const which = (index: number, attempt: number): { index: number; attempt?: number } => (attempt === 1 ? { index } : { index, attempt });

/** Instant commands (comments) started in one step before the run yields to other work. */
export const BATCH = 256;

/** The step under way: events are applied as they are made, effects collected, io updated. */
class Turn {
  readonly events: RunEvent[] = [];
  readonly effects: Effect[] = [];
  readonly replies: RunEvent[] = [];
  readonly atMs: number;

  constructor(
    public state: RunState,
    readonly at: string,
  ) {
    this.atMs = Date.parse(at);
  }

  emit(draft: NewEvent): void {
    const event = { runId: this.state.runId, seq: this.state.seq + 1, at: this.at, ...draft } as RunEvent;
    this.state = apply(this.state, event);
    this.events.push(event);
  }

  io(change: Partial<Io>): void {
    this.state = { ...this.state, io: { ...this.state.io, ...change } };
  }

  /** A new effect id, unique within the run for the life of the process. */
  nextId(): string {
    const n = this.state.io.effects + 1;
    this.io({ effects: n });
    return `e${n}`;
  }

  reply(draft: NewEvent & { type: 'action.rejected' }): void {
    this.replies.push({ runId: this.state.runId, seq: 0, at: this.at, ...draft } as RunEvent);
  }
}

export function step(state: RunState, input: Input): Step {
  const turn = new Turn(state, input.at);
  let answer: Step['answer'];
  switch (input.type) {
    case 'action':
      onAction(turn, input.action, input.actionId);
      answer = { events: turn.events.length, state: turn.state };
      break;
    case 'result':
      onResult(turn, input);
      break;
    case 'timer':
      onTimer(turn, input.timerId);
      break;
    case 'interlock':
      onInterlock(turn, input.active, input.message);
      break;
    case 'journal':
      turn.io({ journalProblem: input.problem });
      break;
    case 'unreadable-action':
      if (turn.state.io.journalProblem === null) turn.emit({ type: 'action.rejected', actionId: input.actionId, action: null, code: 'invalid-action', message: input.message });
      else turn.reply({ type: 'action.rejected', actionId: input.actionId, action: null, code: 'invalid-action', message: input.message });
      break;
    case 'restored':
      onRestored(turn);
      break;
    case 'continue':
      turn.io({ yielding: false });
      break;
    case 'external':
      onExternal(turn, input.topic, input.payload, input.retained);
      break;
  }
  reconcile(turn);
  if (!isFinished(state) && isFinished(turn.state)) switchOffOutputs(turn);
  const result: Step = { state: turn.state, events: turn.events, effects: turn.effects, replies: turn.replies };
  if (answer && answer.events > 0 && answer.events < turn.events.length && answer.state.status !== turn.state.status) result.answer = answer;
  return result;
}

/** The answer a run gives an action, without taking it: what step() would journal, or its earlier answer. */
function onAction(turn: Turn, action: RunAction, actionId: string): void {
  const state = turn.state;
  const previous = lookup(state.answers, actionId);
  if (previous) {
    turn.replies.push(previous);
    return;
  }
  if (state.io.journalProblem !== null) {
    // Neither accepted nor refused in the run's history: either would have to be journaled to be answered.
    turn.reply({ type: 'action.rejected', actionId, action: action.type, code: 'journal-unavailable', message: `cannot ${action.type} run ${state.runId}: ${state.io.journalProblem}` });
    return;
  }
  const refusal = whyNot(state, action.type);
  if (refusal) {
    turn.emit({ type: 'action.rejected', actionId, action: action.type, code: refusal.code, message: refusal.message });
    return;
  }
  const current = state.current;
  turn.emit({ type: 'action.accepted', actionId, action: action.type, by: action.by ?? null, message: action.message ?? null, mode: action.type === 'pause' ? (action.mode ?? 'immediate') : null });
  switch (action.type) {
    case 'play':
    case 'resume':
      // A protocol pause completes when the run is resumed.
      if (current && state.status === 'paused' && commandModule(current.type).onResume === 'complete') turn.emit({ type: 'command.succeeded', ...which(current.index, current.attempt) });
      // After a restart of the engine (and perhaps of the controller, which starts with everything off).
      if (state.reasons.some((r) => r.source === 'recovery')) turn.io({ restoreOutputs: true });
      return;
    case 'stop':
      if (state.status === 'awaiting-recovery') {
        // Stopped at once (apply); a fixit on the device is stopped with it.
        if (state.io.fixit) turn.effects.push({ kind: 'abort', id: state.io.fixit.effectId });
        turn.io({ fixit: null });
        return;
      }
      // A pause or a delay has nothing outside the engine to interrupt: it fails now. Motion fails when the
      // device has stopped it.
      if (current && commandModule(current.type).onStop === 'fail') turn.emit({ type: 'command.failed', ...which(current.index, current.attempt), code: 'stopped', message: 'run stopped' });
      return;
    case 'skip-delay':
      turn.emit({ type: 'command.succeeded', ...which(current!.index, current!.attempt) });
      return;
    case 'retry':
      turn.emit({ type: 'command.started', ...which(current!.index, current!.attempt + 1), commandType: current!.type });
      // GRBL switches the spindle and coolant off on an alarm or a reset: the outputs the run had on go on again.
      turn.io({ restoreOutputs: true });
      return;
    case 'skip':
      turn.emit({ type: 'command.skipped', ...which(current!.index, current!.attempt), by: action.by ?? null, message: action.message ?? 'skipped by the operator' });
      turn.io({ restoreOutputs: true });
      return;
    case 'pause':
    case 'home':
    case 'unlock':
      // The state says what happens; reconcile() does it (holds the motion, sends the fixit).
      return;
  }
}

function onResult(turn: Turn, input: Extract<Input, { type: 'result' }>): void {
  const { io } = turn.state;
  if (io.fixit?.effectId === input.effectId) {
    const { action } = io.fixit;
    turn.io({ fixit: null });
    if (turn.state.status !== 'awaiting-recovery' || turn.state.recovery?.fixit?.ok !== null) return;
    if (input.ok) turn.emit({ type: 'fixit.completed', action, ok: true, code: null, message: fixitDone(action) });
    else turn.emit({ type: 'fixit.completed', action, ok: false, code: input.error.code, message: input.error.message });
    return;
  }
  const motion = io.motion;
  if (!motion) return;
  if (motion.holdId === input.effectId) {
    if (!input.ok || motion.hold !== 'requested') return; // a hold that could not be made: the pause takes effect when the motion ends
    turn.io({ motion: { ...motion, hold: 'held' } });
    const { status, current } = turn.state;
    if (status === 'pausing' && current?.index === motion.index) turn.emit({ type: 'motion.held', index: motion.index });
    return;
  }
  if (motion.effectId !== input.effectId) return;
  // Motion that ended while held leaves the controller in Hold until cycle start; motion that failed (an alarm, a
  // controller gone) leaves nothing to release.
  turn.io({ motion: null, deviceHeld: (input.ok && motion.hold === 'held') || io.deviceHeld });
  const current = turn.state.current;
  if (!current || current.index !== motion.index || current.attempt !== motion.attempt || current.failedNow) return;
  const attempt = current.attempt;
  if (input.ok) {
    const module = commandModule(current.type);
    const result = input.data && module.result ? module.result(input.data) : undefined;
    turn.emit(result === undefined ? { type: 'command.succeeded', ...which(current.index, attempt) } : { type: 'command.succeeded', ...which(current.index, attempt), result: result as never });
    return;
  }
  if (turn.state.status === 'stopping' || motion.aborting) {
    turn.emit({ type: 'command.failed', index: current.index, attempt, code: 'stopped', message: 'run stopped' });
    return;
  }
  failCommand(turn, input.error);
}

const fixitDone = (action: 'home' | 'unlock') =>
  action === 'home' ? 'homed: the machine is at its origin; retry or skip the failed command' : 'unlocked ($X): the position may be wrong until the machine is homed; retry or skip the failed command';

/** The current command failed: the run's policy says whether it waits for the operator, fails, or skips it. */
function failCommand(turn: Turn, error: HardwareFailure): void {
  const current = turn.state.current!;
  const recovery = recoveryFor(turn.state.errorRecovery, current.type, error.code);
  turn.emit({
    type: 'command.failed',
    ...which(current.index, current.attempt),
    code: error.code,
    message: error.message,
    ...(error.positionLost ? { positionLost: true } : {}),
    recovery,
  });
  if (recovery === 'skip') {
    turn.emit({ type: 'command.skipped', ...which(current.index, current.attempt), by: null, message: `skipped by the run's error recovery policy after ${error.code}` });
  }
}

function onTimer(turn: Turn, timerId: string): void {
  const timer = turn.state.io.timer;
  if (timer?.id !== timerId) return;
  turn.io({ timer: null });
  if (timer.for === 'timeout') {
    onTimeout(turn);
    return;
  }
  const { current, delay, status } = turn.state;
  if (!delay || !current || current.index !== delay.index || status !== 'running') return;
  // Timers may fire a hair early; only a countdown that has really ended completes the delay (else it is set again).
  if (remainingMs(turn.state, turn.atMs) <= 1) turn.emit({ type: 'command.succeeded', ...which(current.index, current.attempt) });
}

/** A pause's or wait's own time limit ran out: the pause resumes the run; the wait gives up, into recovery. */
function onTimeout(turn: Turn): void {
  const { current, timeout } = turn.state;
  if (!timeout || !current || current.index !== timeout.index || current.failedNow || timeout.resumedAtMs === null) return;
  if (timeoutRemainingMs(turn.state, turn.atMs) > 1) return; // fired a hair early: set again
  const plan = planOf(turn.state, current);
  if (plan.kind === 'wait') {
    failCommand(turn, { code: 'wait-timeout', message: `nothing matched on ${plan.topic} within ${timeout.seconds} s: retry to wait again, or skip` });
  } else {
    turn.emit({ type: 'command.succeeded', ...which(current.index, current.attempt) });
  }
}

/** A message on a topic a wait-for listens on: the first that matches completes it, and is its result. */
function onExternal(turn: Turn, topic: string, payload: string, retained: boolean): void {
  const { current, io } = turn.state;
  if (!current || current.failedNow || !io.subscription || io.subscription.index !== current.index || io.subscription.attempt !== current.attempt) return;
  const plan = planOf(turn.state, current);
  if (plan.kind !== 'wait' || !topicMatches(plan.topic, topic)) return;
  // A message the broker kept from before the wait began counts only when the command says so.
  if (retained && !plan.retained) return;
  const value = parseJson(payload);
  if (plan.field !== null || plan.equals !== undefined) {
    if (value === undefined) return;
    const actual = plan.field === null ? value : fieldAt(value, plan.field);
    if (actual === undefined || !isDeepStrictEqual(actual, plan.equals ?? null)) return;
  }
  turn.emit({ type: 'command.succeeded', ...which(current.index, current.attempt), result: { topic, payload: (value === undefined ? payload : value) as never } });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The value at a dotted path (`result.status`) of a JSON value, or undefined. */
function fieldAt(value: unknown, path: string): unknown {
  let at = value;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function onInterlock(turn: Turn, active: boolean, message: string): void {
  const { status, io } = turn.state;
  const affected = active
    ? status === 'running' || status === 'pausing' || status === 'paused' || (status === 'awaiting-recovery' && !turn.state.interlock)
    : status === 'blocked' || (status === 'awaiting-recovery' && turn.state.interlock !== null);
  if (!affected) return;
  // An open door makes the controller hold motion by itself; it continues only on cycle start.
  if (active && io.motion) turn.io({ motion: { ...io.motion, hold: 'held' } });
  turn.emit({ type: 'interlock.changed', active, message });
}

function onRestored(turn: Turn): void {
  const { current, status } = turn.state;
  const module = current === null ? null : commandModule(current.type);
  const inFlight = current !== null && !current.failedNow && module!.kind === 'motion';
  // Motion in flight when the engine stopped may still be held by the controller: cycle start before the next request.
  turn.io({ resend: inFlight });
  // A stop under way finishes as it would (recoveryEvents); awaiting-recovery has no command in flight.
  if (inFlight && module!.afterRestart === 'ask' && status !== 'stopping') {
    // Not done again on a resume: the operator says whether it is to be sent again (retry) or counted as done (skip).
    const what = `${current.type} (command ${current.index + 1} of ${turn.state.protocol.commands.length})`;
    failCommand(turn, {
      code: 'interrupted',
      message: `the engine restarted during ${what}: it may have been carried out in part or in full, and sending it again may not end the same. Check the machine, then retry to send it again, or skip it`,
    });
    return;
  }
  for (const event of recoveryEvents(turn.state)) turn.emit(event);
}

/** Milliseconds left on the current pause's or wait's time limit at `atMs` (a held one does not move). */
export function timeoutRemainingMs(state: RunState, atMs: number): number {
  const timeout = state.timeout;
  if (!timeout) return 0;
  if (timeout.resumedAtMs === null) return timeout.remainingMs;
  return Math.max(0, timeout.remainingMs - (atMs - timeout.resumedAtMs));
}

/** Milliseconds left on the run's delay at `atMs` (a frozen countdown does not move). */
export function remainingMs(state: RunState, atMs: number): number {
  const delay = state.delay;
  if (!delay) return 0;
  if (delay.resumedAtMs === null) return delay.remainingMs;
  return Math.max(0, delay.remainingMs - (atMs - delay.resumedAtMs));
}

/**
 * Make the world match the run: stop what should stop, hold or release the device, run the delay's timer, send
 * the current command or fixit to the device, and start the next commands.
 */
function reconcile(turn: Turn): void {
  for (let started = 0; ; started++) {
    const state = turn.state;
    const { io, status, current } = state;
    if (status === 'stopping') stopCurrent(turn);
    if (status === 'pausing' && state.pauseMode === 'immediate' && io.motion && io.motion.hold === 'none') {
      const id = turn.nextId();
      turn.io({ motion: { ...io.motion, hold: 'requested', holdId: id } });
      turn.effects.push({ kind: 'hold', id, deviceId: state.deviceId });
    }
    if (status === 'running' && io.motion && io.motion.hold !== 'none') {
      turn.io({ motion: { ...io.motion, hold: 'none', holdId: null } });
      turn.effects.push({ kind: 'release', id: turn.nextId(), deviceId: state.deviceId });
    }
    if (turn.state.io.deviceHeld && status !== 'paused' && status !== 'pausing' && status !== 'blocked') {
      const id = turn.nextId();
      turn.io({ deviceHeld: false, releasing: id });
      turn.effects.push({ kind: 'release', id, deviceId: state.deviceId });
    }
    reconcileTimer(turn);
    reconcileSubscription(turn);
    if (isFinished(turn.state)) return;
    if (turn.state.io.restoreOutputs && turn.state.status === 'running') restoreOutputs(turn);
    if (current && !current.failedNow && !turn.state.io.motion && (status === 'running' || status === 'pausing')) {
      const plan = planOf(state, current);
      if (plan.kind === 'perform') {
        const id = send(turn, plan.request);
        turn.io({ motion: { effectId: id, index: current.index, attempt: current.attempt, hold: 'none', holdId: null, aborting: false } });
      } else if ((plan.kind === 'done' || plan.kind === 'publish') && status === 'running') {
        // Only after a restart can an instant command be current (its start reached the journal, its end did not):
        // a publish is sent again (at least once, as MQTT QoS 1 delivers).
        if (plan.kind === 'publish') turn.effects.push({ kind: 'publish', id: turn.nextId(), topic: plan.topic, payload: plan.payload, retain: plan.retain });
        turn.emit({ type: 'command.succeeded', ...which(current.index, current.attempt) });
        continue;
      }
    }
    const fixit = turn.state.recovery?.fixit;
    if (status === 'awaiting-recovery' && fixit && fixit.ok === null && !turn.state.io.fixit) {
      const id = send(turn, { op: fixit.action });
      turn.io({ fixit: { effectId: id, action: fixit.action } });
    }
    if (status !== 'running' || current !== null || state.nextIndex >= state.protocol.commands.length) return;
    // Starting a command while the journal cannot write would carry out work whose start a crash forgets.
    if (turn.state.io.journalProblem !== null) return;
    if (started >= BATCH) {
      if (!turn.state.io.yielding) {
        turn.io({ yielding: true });
        turn.effects.push({ kind: 'yield', id: turn.nextId() });
      }
      return;
    }
    const index = state.nextIndex;
    const command = commandAt(state, index);
    turn.emit({ type: 'command.started', index, commandType: command.type });
    const plan = commandModule(command.type).start(command as never);
    if (plan.kind === 'publish') turn.effects.push({ kind: 'publish', id: turn.nextId(), topic: plan.topic, payload: plan.payload, retain: plan.retain });
    if (plan.kind === 'done' || plan.kind === 'publish') turn.emit({ type: 'command.succeeded', index });
  }
}

/**
 * The run has just ended — succeeded, stopped or failed: switch off every device output it may have left on, after
 * the cycle start that lets go of a held device (GRBL takes no line while held). Their results change nothing.
 */
function switchOffOutputs(turn: Turn): void {
  const { deviceId, io, outputs, accessories } = turn.state;
  for (const [output, value] of Object.entries(outputs)) {
    if (value === 0) continue;
    turn.effects.push({ kind: 'perform', id: turn.nextId(), deviceId, request: { op: 'set-output', output, value: 0 }, after: io.releasing });
  }
  // What raw G-code switched on has no output name to switch off by: GRBL's own words for off.
  const off = [...(accessories.spindle ? ['M5'] : []), ...(accessories.coolant ? ['M9'] : [])];
  if (off.length > 0) turn.effects.push({ kind: 'perform', id: turn.nextId(), deviceId, request: { op: 'gcode', params: { lines: off } }, after: io.releasing });
}

/** The cycle start the next device request must wait for, if one is owed (a hold left behind, or motion sent before a restart). */
function owedRelease(turn: Turn): string | null {
  if (turn.state.io.resend) {
    const id = turn.nextId();
    turn.effects.push({ kind: 'release', id, deviceId: turn.state.deviceId });
    turn.io({ resend: false, releasing: id });
  }
  return turn.state.io.releasing;
}

/** A device request, after the cycle start it must wait for. */
function send(turn: Turn, request: HardwareCommand): string {
  const after = owedRelease(turn);
  const id = turn.nextId();
  turn.io({ releasing: null });
  turn.effects.push({ kind: 'perform', id, deviceId: turn.state.deviceId, request, after });
  return id;
}

/**
 * The run goes on after error recovery or an engine restart: every output its succeeded commands left on is set to
 * that level again, before anything else is sent (an alarm or a reset switched them off; setting one that is still
 * on changes nothing). A skipped or failed set-output sets nothing. Their results change nothing.
 */
function restoreOutputs(turn: Turn): void {
  turn.io({ restoreOutputs: false });
  const levels = new Map<string, number>();
  const { records } = turn.state;
  for (let i = 0; i < records.length; i++) {
    const record = at(records, i)!;
    if (record.status !== 'succeeded') continue;
    // As written in the protocol: only a set-output has an output, and it needs nothing resolved (commandAt does moves).
    const command = turn.state.protocol.commands[record.index]!;
    const output = commandModule(command.type).output?.(command as never);
    if (output) levels.set(output.output, output.value);
  }
  const on = [...levels].filter(([, value]) => value > 0);
  if (on.length === 0) return;
  const after = owedRelease(turn);
  for (const [output, value] of on) {
    turn.effects.push({ kind: 'perform', id: turn.nextId(), deviceId: turn.state.deviceId, request: { op: 'set-output', output, value }, after });
  }
}

/** Stop means motion stops: abort what is in flight; a command with nothing in flight fails at once. */
function stopCurrent(turn: Turn): void {
  const { io, current } = turn.state;
  if (io.motion) {
    if (!io.motion.aborting) {
      turn.io({ motion: { ...io.motion, aborting: true } });
      turn.effects.push({ kind: 'abort', id: io.motion.effectId });
    }
    return;
  }
  if (current) turn.emit({ type: 'command.failed', ...which(current.index, current.attempt), code: 'stopped', message: 'run stopped' });
}

/** A timer runs exactly while a delay's countdown, or a pause's or wait's time limit, runs. */
function reconcileTimer(turn: Turn): void {
  const { delay, timeout, status, io } = turn.state;
  const want =
    delay !== null && delay.resumedAtMs !== null && status === 'running'
      ? { for: 'delay' as const, index: delay.index, ms: () => remainingMs(turn.state, turn.atMs) }
      : timeout !== null && timeout.resumedAtMs !== null
        ? { for: 'timeout' as const, index: timeout.index, ms: () => timeoutRemainingMs(turn.state, turn.atMs) }
        : null;
  if (io.timer && (!want || io.timer.index !== want.index || io.timer.for !== want.for)) {
    turn.effects.push({ kind: 'cancel-timer', id: io.timer.id });
    turn.io({ timer: null });
  }
  if (!want || turn.state.io.timer) return;
  const id = turn.nextId();
  turn.io({ timer: { id, index: want.index, for: want.for } });
  turn.effects.push({ kind: 'start-timer', id, ms: want.ms() });
}

/** A current wait-for listens on its topic until it ends; nothing else does. */
function reconcileSubscription(turn: Turn): void {
  const { current, io } = turn.state;
  const waits = current !== null && !current.failedNow && !isFinished(turn.state) && commandModule(current.type).kind === 'wait';
  const plan = waits ? planOf(turn.state, current) : null;
  const want = plan?.kind === 'wait' ? { topic: plan.topic, index: current!.index, attempt: current!.attempt } : null;
  const sub = io.subscription;
  if (sub && (!want || sub.index !== want.index || sub.attempt !== want.attempt)) {
    turn.effects.push({ kind: 'unsubscribe', id: sub.id, topic: sub.topic });
    turn.io({ subscription: null });
  }
  if (!want || turn.state.io.subscription) return;
  const id = turn.nextId();
  turn.io({ subscription: { id, ...want } });
  turn.effects.push({ kind: 'subscribe', id, topic: want.topic });
}
