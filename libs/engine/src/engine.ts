// The engine: owns every run, turns actions into events with decide(), folds them with apply(), publishes
// them, and then reconciles the world with the new state — starts the next command, runs a delay's timer,
// drives motion through the hardware port, aborts it on stop. Like Opentrons' queue worker, but every
// decision about a run lives in decide/apply; this file only carries them out.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { CreateRun, RunAction, RunEvent } from '@labrun/contracts';
import { apply, createState } from './apply.js';
import { decide, type NewEvent } from './decide.js';
import { systemClock, type Clock, type EngineOutput, type HardwareError, type HardwarePort, type MotionCommand } from './ports.js';
import { commandAt, isFinished, type RunState } from './state.js';
import { recoveryEvents } from './recovery.js';
import { delayRemainingMs, toStatusDocument } from './status.js';
import { toCommandsDocument } from './commands-document.js';

export interface EngineOptions {
  hardware: HardwarePort;
  output: EngineOutput;
  /** The device a run uses when its create request names none. */
  defaultDeviceId: string;
  clock?: Clock;
  newId?: () => string;
  /** The shortest time between two commands documents of one run. */
  commandsIntervalMs?: number;
  /** At most this many runs that have not finished; a create beyond it is refused (`too-many-runs`). Default 1000. */
  maxActiveRuns?: number;
}

interface Run {
  state: RunState;
  /** The motion command in flight on the hardware, if any, and whether it is held (feed hold, door). */
  motion: { index: number; abort: AbortController; holdRequested: boolean; held: boolean } | null;
  /** The timer that ends the current delay, if its countdown is running. */
  delayTimer: { index: number; handle: unknown } | null;
  /** A continuation is queued to start further commands (long runs of instant commands yield to I/O). */
  continuing: boolean;
  /**
   * The current motion command was already sent before (by an engine that restarted, or to a controller that
   * went away): send cycle start first, in case the controller still holds the old motion.
   */
  resend: boolean;
  /**
   * A feed hold of this run's stopped the machine and the motion then ended: the controller still holds
   * (GRBL stays in Hold until cycle start). Released when the run goes on or ends.
   */
  deviceHeld: boolean;
  /** That cycle start, in flight: the next motion is sent once it is done. */
  releasing: Promise<void> | null;
  /** Inside reconcile(): statuses wait to be published as one when it is done. */
  statusHeld: boolean;
  statusDue: boolean;
  /** The commands document is due, and goes out after the status: when reconcile() ends, or in a microtask. */
  commandsDue: boolean;
  /** The commands document is due: a timer will publish it. */
  commandsTimer: unknown;
  commandsPublishedAt: number;
}

/** A run as the engine holds it, with nothing yet in flight. */
function newRun(state: RunState): Run {
  return { state, motion: null, delayTimer: null, continuing: false, resend: false, deviceHeld: false, releasing: null, statusHeld: false, statusDue: false, commandsDue: false, commandsTimer: null, commandsPublishedAt: 0 };
}

/** Instant commands (comments) started in one go before the engine yields to other work. */
const BATCH = 256;

export class Engine {
  private readonly runs = new Map<string, Run>();
  private readonly clock: Clock;
  private readonly newId: () => string;
  private nowMs = Number.NaN;
  private nowIso = '';
  /** Why the journal cannot write, while it cannot: nothing that would change a run is accepted then. */
  private journalProblem: string | null = null;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
  }

  get(runId: string): RunState | undefined {
    return this.runs.get(runId)?.state;
  }

  list(): RunState[] {
    return [...this.runs.values()].map((r) => r.state);
  }

  /** Create a run. Creating again with the same document and device is harmless; a different one is refused. */
  create(runId: string, request: CreateRun): void {
    const deviceId = request.deviceId ?? this.options.defaultDeviceId;
    const existing = this.runs.get(runId);
    if (existing) {
      if (isDeepStrictEqual(existing.state.protocol, request.protocol) && existing.state.deviceId === deviceId) {
        this.options.output.status(toStatusDocument(existing.state));
      } else {
        this.reject(runId, 'run.rejected', 'run-exists', `cannot create run ${runId}: a run with that id already exists with a different protocol or device`);
      }
      return;
    }
    if (this.journalProblem !== null) {
      this.reject(runId, 'run.rejected', 'journal-unavailable', `cannot create run ${runId}: ${this.journalProblem}`);
      return;
    }
    const maxActive = this.options.maxActiveRuns ?? 1000;
    if (this.runs.size >= maxActive && this.activeRuns() >= maxActive) {
      this.reject(runId, 'run.rejected', 'too-many-runs', `cannot create run ${runId}: the engine already has ${maxActive} runs that have not finished (its limit); stop or finish some first`);
      return;
    }
    const event: RunEvent = { type: 'run.created', runId, seq: 1, at: this.isoNow(), deviceId, protocol: request.protocol };
    const run = newRun(createState(event));
    this.runs.set(runId, run);
    this.options.output.event(event);
    this.options.output.status(toStatusDocument(run.state));
    this.publishCommands(run);
  }

  /**
   * Bring back runs from their journaled histories (each run's events in order) after a restart, and make
   * each safe to continue: see recoveryEvents().
   */
  restore(histories: RunEvent[][]): void {
    for (const events of histories) {
      const [created, ...rest] = events;
      if (created?.type !== 'run.created' || this.runs.has(created.runId)) continue;
      let state = createState(created);
      for (const event of rest) state = apply(state, event);
      const run = newRun(state);
      this.runs.set(state.runId, run);
    }
    for (const run of this.runs.values()) {
      const current = run.state.current;
      run.resend = current?.type === 'move' || current?.type === 'home';
      const events = recoveryEvents(run.state);
      if (events.length > 0) this.commit(run, events);
      else this.options.output.status(toStatusDocument(run.state));
      this.publishCommands(run);
      this.reconcile(run);
    }
  }

  /** A create request that could not be read. */
  rejectCreate(runId: string, reason: string): void {
    this.reject(runId, 'run.rejected', 'invalid-create', `cannot create run ${runId}: ${reason}`);
  }

  act(runId: string, action: RunAction): void {
    const actionId = action.id ?? this.newId();
    const run = this.runs.get(runId);
    if (!run) {
      this.reject(runId, 'action.rejected', 'unknown-run', `cannot ${action.type} run ${runId}: there is no such run`, { actionId, action: action.type });
      return;
    }
    const decision = decide(run.state, action, actionId);
    if (decision.accepted === 'duplicate') {
      const { output } = this.options;
      if (output.answerAgain) output.answerAgain(decision.answer);
      else output.event(decision.answer);
    } else if (this.journalProblem !== null) {
      // Neither accepted nor refused in the run's history: either would have to be journaled to be answered.
      this.reject(runId, 'action.rejected', 'journal-unavailable', `cannot ${action.type} run ${runId}: ${this.journalProblem}`, { actionId, action: action.type });
    } else if (decision.accepted) {
      this.commit(run, decision.events);
      this.reconcile(run);
    } else {
      this.commit(run, [{ type: 'action.rejected', actionId, action: action.type, code: decision.code, message: decision.message }]);
    }
  }

  /** An action payload that could not be read: answered with a rejection, the run unchanged. */
  rejectAction(runId: string, reason: string, actionId?: string): void {
    const id = actionId ?? this.newId();
    const message = `cannot act on run ${runId}: ${reason}`;
    const run = this.runs.get(runId);
    if (run && this.journalProblem === null) this.commit(run, [{ type: 'action.rejected', actionId: id, action: null, code: 'invalid-action', message }]);
    else this.reject(runId, 'action.rejected', 'invalid-action', message, { actionId: id, action: null });
  }

  /**
   * The journal stopped taking writes (`problem` says why, in words for the sender of a refused action), or took
   * them again (null). While it cannot write, creates and actions are refused with `journal-unavailable`, and no
   * run starts a new command: what is in flight finishes, and its events wait in memory for the disk. Interlocks
   * still take effect. Once it can write, every run goes on from where it waited.
   */
  setJournalWritable(problem: string | null): void {
    const was = this.journalProblem;
    this.journalProblem = problem;
    if (was !== null && problem === null) for (const run of this.runs.values()) this.reconcile(run);
  }

  /** How many runs have not finished. */
  activeRuns(): number {
    let active = 0;
    for (const run of this.runs.values()) if (!isFinished(run.state)) active++;
    return active;
  }

  /** The safety interlock of a device opened (active) or closed under its runs. */
  setInterlock(deviceId: string, active: boolean, message: string): void {
    for (const run of this.runs.values()) {
      const { status } = run.state;
      const affected = active ? status === 'running' || status === 'pausing' || status === 'paused' : status === 'blocked';
      if (run.state.deviceId !== deviceId || !affected) continue;
      // An open door makes the controller hold motion by itself; it continues only on cycle start.
      if (active && run.motion) run.motion.held = true;
      this.commit(run, [{ type: 'interlock.changed', active, message }]);
      this.reconcile(run);
    }
  }

  /**
   * Forget the oldest finished runs (by when they finished) so that at most `keep` finished runs remain;
   * unfinished runs are never forgotten (they are capped by maxActiveRuns instead). Returns the ids forgotten, so
   * their journal lines and retained topics can go too.
   */
  pruneFinished(keep: number): string[] {
    if (this.runs.size <= keep) return [];
    const finishedRuns = [...this.runs.values()].filter((r) => isFinished(r.state));
    const excess = finishedRuns.length - keep;
    if (excess <= 0) return [];
    const finished = finishedRuns
      .sort((a, b) => (a.state.completedAt ?? '').localeCompare(b.state.completedAt ?? ''))
      .slice(0, excess)
      .map((r) => r.state.runId);
    for (const runId of finished) {
      const run = this.runs.get(runId)!;
      if (run.commandsTimer) this.clock.clearTimeout(run.commandsTimer);
      this.runs.delete(runId);
    }
    return finished;
  }

  /** Publish every run's status again (after a reconnect, so retained state is whole). */
  republish(): void {
    for (const run of this.runs.values()) {
      this.options.output.status(toStatusDocument(run.state));
      this.publishCommands(run);
    }
  }

  /** Stop timers and in-flight hardware requests; the engine is not used after this. */
  dispose(): void {
    for (const run of this.runs.values()) {
      this.clearDelayTimer(run);
      if (run.commandsTimer) this.clock.clearTimeout(run.commandsTimer);
      run.motion?.abort.abort();
    }
  }

  private isoNow(): string {
    // A burst of commits within one millisecond (256 comments a turn) formats the time once.
    const now = this.clock.now();
    if (now !== this.nowMs) {
      this.nowMs = now;
      this.nowIso = new Date(now).toISOString();
    }
    return this.nowIso;
  }

  /** An answer that belongs to no run's history (seq 0): a bad create, or an action for an unknown run. */
  private reject(runId: string, type: 'run.rejected' | 'action.rejected', code: string, message: string, extra?: { actionId: string; action: string | null }): void {
    const base = { runId, seq: 0, at: this.isoNow(), code, message };
    this.options.output.event(type === 'run.rejected' ? { ...base, type } : { ...base, type, actionId: extra!.actionId, action: extra!.action });
  }

  /** Stamp, fold and publish events; then the status, unless nothing but rejections happened. */
  private commit(run: Run, events: NewEvent[]): void {
    const at = this.isoNow();
    let changed = false;
    let commandsChanged = false;
    for (const draft of events) {
      const event = { runId: run.state.runId, seq: run.state.seq + 1, at, ...draft } as RunEvent;
      run.state = apply(run.state, event);
      this.options.output.event(event);
      if (event.type !== 'action.rejected') changed = true;
      if (event.type.startsWith('command.')) commandsChanged = true;
    }
    if (changed && run.statusHeld) run.statusDue = true;
    else if (changed) this.options.output.status(toStatusDocument(run.state));
    if (commandsChanged) this.scheduleCommands(run);
  }

  /** Publish the commands document now if the last one is old enough (or the run has ended), else soon. */
  private scheduleCommands(run: Run): void {
    const finished = isFinished(run.state);
    // A run's last document goes out at once, even if one is already waiting for its turn.
    if (!this.options.output.commands || (run.commandsTimer && !finished)) return;
    // Its cost grows with the protocol's length, so a long protocol republishes it less often (100,000 commands:
    // once a second), keeping the share of the engine's time it takes bounded.
    const interval = Math.max(this.options.commandsIntervalMs ?? 200, run.state.protocol.commands.length / 100);
    const wait = run.commandsPublishedAt + interval - this.clock.now();
    if (wait <= 0 || finished) {
      // The status says what a subscriber waits for; the longer document follows it, once the engine is done
      // with what it is doing: an action that finishes one command and starts the next gives one document.
      if (run.commandsDue) return;
      run.commandsDue = true;
      if (!run.statusHeld) queueMicrotask(() => this.publishCommandsIfDue(run));
      return;
    }
    run.commandsTimer = this.clock.setTimeout(() => {
      run.commandsTimer = null;
      this.publishCommands(run);
    }, wait);
  }

  private publishCommandsIfDue(run: Run): void {
    // A run forgotten meanwhile (pruneFinished) must not get its retained document back.
    if (!run.commandsDue || this.runs.get(run.state.runId) !== run) return;
    run.commandsDue = false;
    this.publishCommands(run);
  }

  private publishCommands(run: Run): void {
    if (!this.options.output.commands) return;
    if (run.commandsTimer) this.clock.clearTimeout(run.commandsTimer);
    run.commandsTimer = null;
    run.commandsDue = false;
    run.commandsPublishedAt = this.clock.now();
    this.options.output.commands(toCommandsDocument(run.state));
  }

  /**
   * Make the world match the run's state: stop what should stop, start what should start. Statuses committed
   * while it works are coalesced into one, published when it is done: a burst of instant commands is one status
   * (every event is still published), and the status published is always the run's state at that moment.
   */
  private reconcile(run: Run): void {
    const outer = run.statusHeld;
    run.statusHeld = true;
    try {
      this.reconcileSteps(run);
    } finally {
      run.statusHeld = outer;
      if (!outer && run.statusDue) {
        run.statusDue = false;
        this.options.output.status(toStatusDocument(run.state));
      }
      if (!outer) this.publishCommandsIfDue(run);
    }
  }

  private reconcileSteps(run: Run): void {
    for (let started = 0; ; started++) {
      const state = run.state;
      if (state.status === 'stopping') this.stopMotion(run);
      if (state.status === 'pausing' && state.pendingPause?.mode === 'immediate' && run.motion && !run.motion.holdRequested) this.holdMotion(run);
      if (state.status === 'running' && run.motion?.held) this.releaseMotion(run);
      if (run.deviceHeld && state.status !== 'paused' && state.status !== 'pausing' && state.status !== 'blocked') this.releaseDevice(run);
      this.reconcileDelay(run);
      if (isFinished(state)) return;
      const current = state.current;
      if (current && (current.type === 'move' || current.type === 'home') && !run.motion && (state.status === 'running' || state.status === 'pausing')) {
        this.startMotion(run, current.index);
      }
      if (state.status === 'running' && current?.type === 'comment') {
        // Only after a restart can a comment be current (its start reached the journal, its end did not).
        this.commit(run, [{ type: 'command.succeeded', index: current.index }]);
        continue;
      }
      if (state.status !== 'running' || current !== null || state.nextIndex >= state.protocol.commands.length) return;
      // Starting a command while the journal cannot write would carry out work whose start a crash forgets.
      if (this.journalProblem !== null) return;
      if (started >= BATCH) {
        this.continueLater(run);
        return;
      }
      this.startNext(run);
    }
  }

  private continueLater(run: Run): void {
    if (run.continuing) return;
    run.continuing = true;
    setImmediate(() => {
      run.continuing = false;
      this.reconcile(run);
    });
  }

  private startNext(run: Run): void {
    const index = run.state.nextIndex;
    const command = commandAt(run.state, index);
    const events: NewEvent[] = [{ type: 'command.started', index, commandType: command.type }];
    if (command.type === 'comment') events.push({ type: 'command.succeeded', index });
    this.commit(run, events);
  }

  private startMotion(run: Run, index: number): void {
    const command = commandAt(run.state, index);
    const motion: MotionCommand = command.type === 'move' ? { op: 'move', params: command.params } : { op: 'home' };
    const abort = new AbortController();
    run.motion = { index, abort, holdRequested: false, held: false };
    const { hardware } = this.options;
    const deviceId = run.state.deviceId;
    // Cycle start first when the controller may still hold: old motion after a restart, or a hold left behind.
    const before = run.resend ? hardware.release(deviceId).catch(() => undefined) : run.releasing;
    const sent = before ? before.then(() => hardware.perform(deviceId, motion, abort.signal)) : hardware.perform(deviceId, motion, abort.signal);
    run.resend = false;
    run.releasing = null;
    sent.then(
      () => this.motionEnded(run, index, null),
      (error: HardwareError) => {
        if (abort.signal.aborted) this.motionEnded(run, index, { code: 'stopped', message: 'run stopped' });
        else if (error.code === 'disconnected') this.motionInterrupted(run, index, error.message);
        else this.motionEnded(run, index, { code: error.code === 'alarm' ? 'alarm' : 'hardware-error', message: error.message });
      },
    );
  }

  private motionEnded(run: Run, index: number, error: { code: string; message: string } | null): void {
    if (run.motion?.index === index) {
      if (run.motion.held) run.deviceHeld = true;
      run.motion = null;
    }
    if (run.state.current?.index !== index) return;
    this.commit(run, [error ? { type: 'command.failed', index, ...error } : { type: 'command.succeeded', index }]);
    this.reconcile(run);
  }

  /**
   * The controller went away mid-command. The command is not failed: the run is blocked by the interlock, and
   * the command (an absolute move, or homing) is sent again when the run is resumed.
   */
  private motionInterrupted(run: Run, index: number, reason: string): void {
    if (run.motion?.index === index) run.motion = null;
    run.resend = true;
    const { status, current } = run.state;
    if (current?.index !== index) return;
    if (status === 'running' || status === 'pausing' || status === 'paused') {
      const message = `${reason}: ${current.type} (command ${index + 1}) was interrupted and is sent again on resume`;
      this.commit(run, [{ type: 'interlock.changed', active: true, message }]);
    }
    this.reconcile(run);
  }

  /** Stop means motion stops: abort what is in flight; a command with nothing in flight fails at once. */
  private stopMotion(run: Run): void {
    if (run.motion) {
      if (!run.motion.abort.signal.aborted) run.motion.abort.abort();
      return;
    }
    const current = run.state.current;
    if (current) this.commit(run, [{ type: 'command.failed', index: current.index, code: 'stopped', message: 'run stopped' }]);
  }

  /** An immediate user pause: feed hold now; the run is paused once the controller reports the hold complete. */
  private holdMotion(run: Run): void {
    const motion = run.motion!;
    motion.holdRequested = true;
    this.options.hardware.hold(run.state.deviceId).then(
      () => {
        if (run.motion !== motion) return;
        motion.held = true;
        if (run.state.status === 'pausing' && run.state.current?.index === motion.index) {
          this.commit(run, [{ type: 'motion.held', index: motion.index }]);
          this.reconcile(run);
        }
      },
      // The hold could not be made: the pause still takes effect when the move ends (as a deferred pause).
      () => undefined,
    );
  }

  /** Resuming a run whose motion is held: cycle start. */
  private releaseMotion(run: Run): void {
    const motion = run.motion!;
    motion.held = false;
    motion.holdRequested = false;
    this.options.hardware.release(run.state.deviceId).catch(() => undefined);
  }

  /** The run goes on (or ends) with the controller still holding after its motion ended: cycle start. */
  private releaseDevice(run: Run): void {
    run.deviceHeld = false;
    run.releasing = this.options.hardware.release(run.state.deviceId).catch(() => undefined);
  }

  /** A delay's timer runs exactly while its countdown runs. */
  private reconcileDelay(run: Run): void {
    const { delay, status } = run.state;
    const counting = delay !== null && delay.resumedAtMs !== null && status === 'running';
    if (!counting) {
      this.clearDelayTimer(run);
      return;
    }
    if (run.delayTimer?.index === delay.index) return;
    this.clearDelayTimer(run);
    const remaining = delayRemainingMs(run.state, this.clock.now()) ?? 0;
    const handle = this.clock.setTimeout(() => {
      run.delayTimer = null;
      const state = run.state;
      if (state.current?.index !== delay.index || state.status !== 'running') return;
      // Timers may fire a hair early; only a countdown that has really ended completes the delay.
      if ((delayRemainingMs(state, this.clock.now()) ?? 0) <= 1) this.commit(run, [{ type: 'command.succeeded', index: delay.index }]);
      this.reconcile(run);
    }, remaining);
    run.delayTimer = { index: delay.index, handle };
  }

  private clearDelayTimer(run: Run): void {
    if (run.delayTimer) this.clock.clearTimeout(run.delayTimer.handle);
    run.delayTimer = null;
  }
}
