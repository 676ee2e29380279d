// apply(state, event) → state: how each fact changes a run. Pure and synchronous; step() calls it for every event
// it produces, and replaying a run's journaled events through it rebuilds the run exactly (its `io` aside).
import type { PauseReason, RunEvent, RunEventOf } from '@labrun/contracts';
import { append, emptyList, emptyMap, insert } from './append-only.js';
import { commandModule } from './commands/index.js';
import { commandAt, initialIo, type CommandRecord, type CurrentCommand, type EndedAttempt, type RunState } from './state.js';

export function createState(event: RunEventOf<'run.created'>): RunState {
  return {
    runId: event.runId,
    deviceId: event.deviceId,
    protocol: event.protocol,
    errorRecovery: event.errorRecovery,
    status: 'idle',
    reasons: [],
    pauseMode: null,
    interlock: null,
    delay: null,
    timeout: null,
    current: null,
    nextIndex: 0,
    records: emptyList(),
    completed: 0,
    error: null,
    recovery: null,
    createdAt: event.at,
    startedAt: null,
    completedAt: null,
    seq: event.seq,
    updatedAt: event.at,
    answers: emptyMap(),
    outputs: {},
    accessories: { spindle: false, coolant: false },
    io: initialIo(),
  };
}

export function apply(state: RunState, event: RunEvent): RunState {
  const next = applyEvent(state, event);
  return next.timeout === null ? next : settleTimeout(next, event.at);
}

/**
 * A pause's or wait's time limit runs exactly while the run waits for that command alone: status paused, and no
 * reason but the command's own (a user's pause on top, the interlock, a restart hold it).
 */
function settleTimeout(state: RunState, at: string): RunState {
  const timeout = state.timeout!;
  const counting = state.status === 'paused' && state.reasons.every((r) => r.source === 'protocol' || r.source === 'external');
  if (counting === (timeout.resumedAtMs !== null)) return state;
  if (counting) return { ...state, timeout: { ...timeout, resumedAtMs: ms(at) } };
  return { ...state, timeout: { ...timeout, remainingMs: Math.max(0, timeout.remainingMs - (ms(at) - timeout.resumedAtMs!)), resumedAtMs: null } };
}

function applyEvent(state: RunState, event: RunEvent): RunState {
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
      return succeed(next, event);
    case 'command.failed':
      return fail(next, event);
    case 'command.skipped':
      return skip(next, event);
    case 'fixit.completed':
      return fixitDone(next, event);
    case 'motion.held':
      return holdMotion(next, event);
    case 'interlock.changed':
      return applyInterlock(next, event);
    case 'run.recovered': {
      // The interlock is applied again if the device still reports it; the restart is the reason to check now.
      const held = withoutPending(next);
      return freezeDelay({ ...held, status: 'paused', interlock: null, reasons: [...without(held.reasons, 'interlock'), reason('recovery', event.message, event.at)] }, event.at);
    }
  }
}

const reason = (source: PauseReason['source'], message: string | null, since: string | null, by: string | null = null): PauseReason => ({ source, message, since, by });
const without = (reasons: readonly PauseReason[], ...sources: PauseReason['source'][]) => (reasons.length === 0 ? reasons : reasons.filter((r) => !sources.includes(r.source)));
/** The user pause still taking effect (since null) is dropped: something else stopped the machine first. */
const withoutPending = (state: RunState): RunState => ({ ...state, pauseMode: null, reasons: state.reasons.filter((r) => !(r.source === 'user' && r.since === null)) });
const attemptOf = (event: { attempt?: number | undefined }) => event.attempt ?? 1;

function remember(state: RunState, event: RunEventOf<'action.accepted' | 'action.rejected'>): RunState {
  return { ...state, answers: insert(state.answers, event.actionId, event) };
}

/** The run has ended: nothing holds it any more. */
function done(state: RunState, status: 'stopped' | 'succeeded' | 'failed', at: string): RunState {
  return { ...state, status, reasons: [], pauseMode: null, delay: null, timeout: null, recovery: null, completedAt: at };
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
      if (state.current === null && state.nextIndex >= state.protocol.commands.length) return done(state, 'succeeded', event.at);
      // Every reason the run waited goes: the protocol's pause ends with this resume (its command succeeds next).
      return thawDelay({ ...state, status: 'running', reasons: [], pauseMode: null }, event.at);
    case 'pause': {
      const current = state.current;
      if (current && commandModule(current.type).onPause === 'hold') {
        // Not safe yet: the machine is moving. The run is paused once the motion has ended (or held).
        return { ...state, status: 'pausing', reasons: [...state.reasons, reason('user', event.message, null, event.by)], pauseMode: event.mode ?? 'immediate' };
      }
      return freezeDelay({ ...state, status: 'paused', reasons: [...state.reasons, reason('user', event.message, event.at, event.by)] }, event.at);
    }
    case 'stop': {
      if (state.status === 'awaiting-recovery' && state.current) {
        // The failed command stays failed: the run ends here, and a fixit in progress is aborted with it.
        return { ...done(state, 'stopped', event.at), current: null, error: null, ...endCurrent(state, state.current, 'failed', event.at) };
      }
      if (state.current === null) return done(state, 'stopped', event.at);
      return freezeDelay({ ...withoutPending(state), status: 'stopping' }, event.at);
    }
    case 'home':
    case 'unlock':
      return { ...state, recovery: { needsHome: state.recovery?.needsHome ?? false, fixit: { action: event.action, ok: null, message: null, at: event.at } } };
    case 'skip-delay':
    case 'retry':
    case 'skip':
      // What they do follows as its own event (command.succeeded, command.started, command.skipped).
      return state;
  }
}

/** The record of a command that has ended for good, appended in index order. */
function endCurrent(state: RunState, current: CurrentCommand, status: CommandRecord['status'], at: string, result: unknown = null, skippedBy?: string | null): Pick<RunState, 'records' | 'completed'> {
  if (status === 'succeeded' && current.failed.length === 0) {
    // The common case, once per command of a long protocol: one attempt, no list.
    const record: CommandRecord = { index: current.index, status, startedAt: current.firstStartedAt, completedAt: at, error: null, result, attempts: null };
    return { records: append(state.records, record), completed: state.completed + 1 };
  }
  const attempts: EndedAttempt[] = [...current.failed];
  if (current.failedNow) attempts.push(current.failedNow);
  else if (status !== 'skipped') attempts.push({ attempt: current.attempt, startedAt: current.startedAt, completedAt: at, error: null, result });
  const last = attempts[attempts.length - 1];
  const record: CommandRecord = {
    index: current.index,
    status,
    startedAt: current.firstStartedAt,
    // A skipped command ended when it was skipped (its failed attempt's end stays in `attempts`).
    completedAt: status === 'skipped' ? at : (last?.completedAt ?? at),
    error: status === 'succeeded' ? null : (last?.error ?? null),
    result: status === 'succeeded' ? result : null,
    attempts: attempts.length > 1 || status === 'skipped' ? attempts : null,
    ...(status === 'skipped' ? { skippedBy: skippedBy ?? null } : {}),
  };
  return { records: append(state.records, record), completed: state.completed + (status === 'failed' ? 0 : 1) };
}

function startCommand(state: RunState, event: RunEventOf<'command.started'>): RunState {
  const attempt = attemptOf(event);
  const previous = state.current;
  const command = commandAt(state, event.index);
  let current: CurrentCommand;
  let next: RunState;
  if (previous && previous.index === event.index) {
    // A retry: the failed attempt joins the command's history; recovery is over.
    const failed = previous.failedNow ? [...previous.failed, previous.failedNow] : previous.failed;
    current = { ...previous, attempt, startedAt: event.at, failed, failedNow: null };
    next = { ...state, current, status: 'running', error: null, recovery: null, reasons: without(state.reasons, 'error') };
  } else {
    current = { index: event.index, type: command.type, attempt, startedAt: event.at, firstStartedAt: event.at, failed: [], failedNow: null };
    next = { ...state, current, nextIndex: event.index + 1 };
  }
  // An output being switched on may be on from now, whatever the device answers (a lost reply, a stop mid-request).
  const output = commandModule(command.type).output?.(command as never);
  if (output && output.value > 0) next = { ...next, outputs: { ...next.outputs, [output.output]: output.value } };
  const accessories = commandModule(command.type).accessories?.(command as never);
  if (accessories && ((accessories.spindle && !next.accessories.spindle) || (accessories.coolant && !next.accessories.coolant))) {
    next = { ...next, accessories: { spindle: next.accessories.spindle || accessories.spindle, coolant: next.accessories.coolant || accessories.coolant } };
  }
  const plan = commandModule(command.type).start(command as never);
  const timeout = (seconds: number | null) => (seconds === null ? null : { index: event.index, seconds, remainingMs: seconds * 1000, resumedAtMs: null });
  if (plan.kind === 'pause') return { ...next, status: 'paused', reasons: [...next.reasons, reason('protocol', plan.message, event.at)], timeout: timeout(plan.timeoutSeconds) };
  if (plan.kind === 'wait') return { ...next, status: 'paused', reasons: [...next.reasons, reason('external', plan.message, event.at)], timeout: timeout(plan.timeoutSeconds) };
  if (plan.kind === 'countdown') {
    return { ...next, delay: { index: event.index, seconds: plan.seconds, message: plan.message, remainingMs: plan.seconds * 1000, resumedAtMs: ms(event.at) } };
  }
  return next;
}

const isCurrent = (state: RunState, event: { index: number; attempt?: number | undefined }) =>
  state.current !== null && state.current.index === event.index && state.current.attempt === attemptOf(event) && state.current.failedNow === null;

function succeed(state: RunState, event: RunEventOf<'command.succeeded'>): RunState {
  const current = state.current;
  if (!current || !isCurrent(state, event)) return state;
  const output = commandModule(current.type).output?.(commandAt(state, current.index) as never);
  const outputs = output ? { ...state.outputs, [output.output]: output.value } : state.outputs;
  const finished: RunState = {
    ...state,
    current: null,
    delay: null,
    timeout: null,
    reasons: without(state.reasons, 'protocol', 'external'),
    outputs,
    ...endCurrent(state, current, 'succeeded', event.at, event.result ?? null),
  };
  if (state.status === 'stopping') return done(finished, 'stopped', event.at);
  // A pause that timed out, or a wait that got its message, with nothing else holding the run: it goes on by itself.
  const waited = state.status === 'paused' && commandModule(current.type).kind === 'wait' && finished.reasons.length === 0;
  if (waited) return finished.nextIndex >= state.protocol.commands.length ? done(finished, 'succeeded', event.at) : { ...finished, status: 'running' };
  if (state.status === 'pausing') {
    // The motion the pause was waiting for has ended: the run is now paused (even after its last command: a run
    // someone paused waits for them, and only a resume finishes it).
    return { ...finished, status: 'paused', pauseMode: null, reasons: finished.reasons.map((r) => (r.source === 'user' && r.since === null ? { ...r, since: event.at } : r)) };
  }
  // Paused already (a feed hold stopped the machine) or blocked, and the motion ended anyway: it stays so.
  if (state.status === 'paused' || state.status === 'blocked') return finished;
  if (finished.nextIndex >= state.protocol.commands.length) return done(finished, 'succeeded', event.at);
  return finished;
}

function fail(state: RunState, event: RunEventOf<'command.failed'>): RunState {
  const current = state.current;
  if (!current || !isCurrent(state, event)) return state;
  const error = { code: event.code, message: event.message };
  const outcome = state.status === 'stopping' ? 'fail' : (event.recovery ?? 'fail');
  if (outcome === 'fail') {
    const ended: RunState = {
      ...state,
      current: null,
      ...endCurrent(state, { ...current, failedNow: { attempt: current.attempt, startedAt: current.startedAt, completedAt: event.at, error, result: null } }, 'failed', event.at),
    };
    if (state.status === 'stopping') return done(ended, 'stopped', event.at);
    return { ...done(ended, 'failed', event.at), error: { ...error, commandIndex: event.index, attempt: current.attempt, ...(event.positionLost ? { positionLost: true } : {}) } };
  }
  // The run waits for the operator (a policy `skip` follows with command.skipped). What a person had asked of the
  // motion (a pause still taking effect, an earlier interlock's "resume when ready") is superseded by the error;
  // the interlock itself, while active, stays a reason.
  const failedNow: EndedAttempt = { attempt: current.attempt, startedAt: current.startedAt, completedAt: event.at, error, result: null };
  const positionLost = event.positionLost === true;
  const keep = state.reasons.filter((r) => r.source === 'interlock' && state.interlock !== null);
  return freezeDelay(
    {
      ...state,
      status: 'awaiting-recovery',
      current: { ...current, failedNow },
      timeout: null,
      error: { ...error, commandIndex: event.index, attempt: current.attempt, ...(positionLost ? { positionLost } : {}) },
      recovery: { needsHome: positionLost, fixit: null },
      reasons: [...keep, reason('error', event.message, event.at)],
      pauseMode: null,
    },
    event.at,
  );
}

function skip(state: RunState, event: RunEventOf<'command.skipped'>): RunState {
  const current = state.current;
  if (!current || current.index !== event.index || state.status !== 'awaiting-recovery') return state;
  const ended: RunState = {
    ...state,
    current: null,
    delay: null,
    timeout: null,
    error: null,
    recovery: null,
    reasons: without(state.reasons, 'error'),
    status: state.interlock ? 'blocked' : 'running',
    ...endCurrent(state, current, 'skipped', event.at, null, event.by),
  };
  if (ended.nextIndex >= state.protocol.commands.length) return { ...done(ended, 'succeeded', event.at), interlock: null };
  return ended;
}

function fixitDone(state: RunState, event: RunEventOf<'fixit.completed'>): RunState {
  const recovery = state.recovery;
  if (!recovery || recovery.fixit?.ok !== null || recovery.fixit.action !== event.action) return state;
  const homed = event.action === 'home' && event.ok;
  return { ...state, recovery: { needsHome: homed ? false : recovery.needsHome, fixit: { action: event.action, ok: event.ok, message: event.message, at: event.at } } };
}

/** The feed hold a user pause asked for has stopped the machine: the run is paused, mid-move. */
function holdMotion(state: RunState, event: RunEventOf<'motion.held'>): RunState {
  if (state.status !== 'pausing' || state.current?.index !== event.index) return state;
  return { ...state, status: 'paused', pauseMode: null, reasons: state.reasons.map((r) => (r.source === 'user' && r.since === null ? { ...r, since: event.at } : r)) };
}

/** A protocol pause or a wait is current: nothing moves, and the run already waits for a resume or a message. */
const protocolPauseIsCurrent = (state: RunState) =>
  state.current !== null && commandModule(state.current.type).kind === 'wait' && state.reasons.some((r) => r.source === 'protocol' || r.source === 'external');

function applyInterlock(state: RunState, event: RunEventOf<'interlock.changed'>): RunState {
  const { status } = state;
  if (event.active) {
    if (status === 'awaiting-recovery')
      return { ...state, interlock: { message: event.message, since: event.at }, reasons: [...without(state.reasons, 'interlock'), reason('interlock', event.message, event.at)] };
    if (status !== 'running' && status !== 'pausing' && status !== 'paused') return state;
    const held = withoutPending(state);
    return freezeDelay(
      { ...held, status: 'blocked', interlock: { message: event.message, since: event.at }, reasons: [...without(held.reasons, 'interlock'), reason('interlock', event.message, event.at)] },
      event.at,
    );
  }
  if (status === 'awaiting-recovery') return { ...state, interlock: null, reasons: without(state.reasons, 'interlock') };
  if (status !== 'blocked') return state;
  // Clearing the interlock never restarts motion by itself: the run waits, paused, for an explicit resume. The
  // protocol's own pause says so already; otherwise the interlock's reason stays, saying what cleared.
  const since = state.reasons.find((r) => r.source === 'interlock')?.since ?? event.at;
  const reasons = protocolPauseIsCurrent(state) ? without(state.reasons, 'interlock') : [...without(state.reasons, 'interlock'), reason('interlock', event.message, since)];
  return { ...state, status: 'paused', interlock: null, reasons };
}
