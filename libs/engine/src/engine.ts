// The engine: owns every run, feeds what happens to step(), publishes the events and statuses it returns, and
// carries out its effects — device requests, holds, releases, aborts, timers, yields. It decides nothing about a
// run: every decision lives in step() and the command modules. Like Opentrons' queue worker around its pure
// protocol engine state.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { filterWithin, topicMatches, travelProblems, type CreateRun, type RunAction, type RunEvent, type Travel } from '@labrun/contracts';
import { apply, createState } from './apply.js';
import { systemClock, type Clock, type EngineOutput, type HardwareError, type HardwarePort } from './ports.js';
import { isFinished, type RunState } from './state.js';
import { step, type Effect, type Input } from './step.js';
import { toStatusDocument } from './status.js';
import { Publisher } from './publisher.js';

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
  /**
   * The topic filters protocols may publish to and wait on (LABRUN_PROTOCOL_TOPICS; default `lab/#`). labrun's own
   * topics (run/, hw/, engine/, gateway/) and broker topics ($) are never allowed, whatever this says.
   */
  protocolTopics?: readonly string[];
  /**
   * Where a device can go (its hardware state's `travel`), if known: a create whose moves or probes leave it is
   * refused (`invalid-create`, naming the command and the range) rather than failing on the machine mid-run.
   */
  deviceTravel?: (deviceId: string) => Travel | undefined;
}

/** labrun's own topics: a protocol never publishes or waits there. */
const RESERVED = ['run/#', 'hw/#', 'engine/#', 'gateway/#', 'device/#'];

/** Why a protocol's topics are not allowed on this engine, or null. */
export function protocolTopicProblem(request: CreateRun, allowed: readonly string[]): string | null {
  const namespace = allowed.join(', ');
  for (const [index, command] of request.protocol.commands.entries()) {
    if (command.type !== 'publish' && command.type !== 'wait-for') continue;
    const { topic } = command.params;
    const reserved = RESERVED.some((filter) => topicMatches(filter, topic) || filterWithin(topic, filter) || topic.split('/')[0] === filter.split('/')[0]);
    const inside = command.type === 'publish' ? allowed.some((filter) => topicMatches(filter, topic)) : allowed.some((filter) => filterWithin(topic, filter));
    const what = `command ${index + 1} (${command.type}) names ${topic}`;
    if (reserved) return `${what}, one of labrun's own topics: protocols publish and wait only under ${namespace} (LABRUN_PROTOCOL_TOPICS)`;
    if (!inside) return `${what}, outside the topics protocols may use here: ${namespace} (LABRUN_PROTOCOL_TOPICS)`;
  }
  return null;
}

/** Distributes Omit over a union, so each input keeps its own fields. */
type InputBody = Input extends infer I ? (I extends Input ? Omit<I, 'at'> : never) : never;

/** A run as the engine holds it: its state, and the handles of the effects it has in flight. */
interface Run {
  state: RunState;
  /** Device requests in flight, by effect id: aborting one stops the motion. */
  requests: Map<string, AbortController>;
  /** Cycle starts in flight, by effect id: a device request sent after one waits for it. */
  releases: Map<string, Promise<void>>;
  timers: Map<string, unknown>;
}

const newRun = (state: RunState): Run => ({ state, requests: new Map(), releases: new Map(), timers: new Map() });

export class Engine {
  private readonly runs = new Map<string, Run>();
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly publisher: Publisher;
  private nowMs = Number.NaN;
  private nowIso = '';
  /** Why the journal cannot write, while it cannot: nothing that would change a run is accepted then. */
  private journalProblem: string | null = null;
  /** How many waits listen on each topic filter. */
  private readonly listening = new Map<string, number>();
  /** Filters no wait listens on any more, dropped from the broker once the step that ended them is done. */
  private readonly unsubscribing = new Set<string>();

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
    this.publisher = new Publisher(options.output, this.clock, options.commandsIntervalMs ?? 200, (runId) => this.runs.get(runId)?.state);
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
      const same = isDeepStrictEqual(existing.state.protocol, request.protocol) && existing.state.deviceId === deviceId && isDeepStrictEqual(existing.state.errorRecovery, request.errorRecovery);
      if (same) this.options.output.status(toStatusDocument(existing.state));
      else this.reject(runId, 'run.rejected', 'run-exists', `cannot create run ${runId}: a run with that id already exists with a different protocol, device or error recovery policy`);
      return;
    }
    const topicProblem = protocolTopicProblem(request, this.options.protocolTopics ?? ['lab/#']);
    if (topicProblem !== null) {
      this.reject(runId, 'run.rejected', 'invalid-create', `cannot create run ${runId}: ${topicProblem}`);
      return;
    }
    const travel = this.options.deviceTravel?.(deviceId);
    const [beyond] = travel ? travelProblems(request.protocol, travel, deviceId) : [];
    if (beyond) {
      this.reject(runId, 'run.rejected', 'invalid-create', `cannot create run ${runId}: ${beyond.message}`);
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
    const event: RunEvent = {
      type: 'run.created',
      runId,
      seq: 1,
      at: this.isoNow(),
      deviceId,
      protocol: request.protocol,
      ...(request.errorRecovery ? { errorRecovery: request.errorRecovery } : {}),
    };
    const run = newRun(createState(event));
    this.runs.set(runId, run);
    this.options.output.event(event);
    this.options.output.status(toStatusDocument(run.state));
    this.publisher.commandsNow(run.state);
  }

  /**
   * Bring back runs from their journaled histories (each run's events in order) after a restart, and make each
   * safe to continue (step's `restored` input: see recoveryEvents()).
   */
  restore(histories: RunEvent[][]): void {
    const restored: Run[] = [];
    for (const events of histories) {
      const [created, ...rest] = events;
      if (created?.type !== 'run.created' || this.runs.has(created.runId)) continue;
      let state = createState(created);
      for (const event of rest) state = apply(state, event);
      const run = newRun(state);
      this.runs.set(state.runId, run);
      restored.push(run);
    }
    for (const run of restored) {
      this.input(run, { type: 'restored' }, true);
      this.publisher.commandsNow(run.state);
    }
  }

  /** A create request that could not be read. */
  rejectCreate(runId: string, reason: string): void {
    this.reject(runId, 'run.rejected', 'invalid-create', `cannot create run ${runId}: ${reason}`);
  }

  /**
   * A create this engine does not take, answered for the fleet: `unknown-device` (no online engine serves its device)
   * or `run-exists` (another engine holds a run with that id). Nothing is journaled.
   */
  refuseCreate(runId: string, code: 'unknown-device' | 'run-exists', message: string): void {
    this.reject(runId, 'run.rejected', code, `cannot create run ${runId}: ${message}`);
  }

  act(runId: string, action: RunAction): void {
    const actionId = action.id ?? this.newId();
    const run = this.runs.get(runId);
    if (!run) {
      this.reject(runId, 'action.rejected', 'unknown-run', `cannot ${action.type} run ${runId}: there is no such run`, { actionId, action: action.type });
      return;
    }
    this.input(run, { type: 'action', action, actionId });
  }

  /** An action payload that could not be read: answered with a rejection, the run unchanged. */
  rejectAction(runId: string, reason: string, actionId?: string): void {
    const id = actionId ?? this.newId();
    const message = `cannot act on run ${runId}: ${reason}`;
    const run = this.runs.get(runId);
    if (run) this.input(run, { type: 'unreadable-action', actionId: id, message });
    else this.reject(runId, 'action.rejected', 'invalid-action', message, { actionId: id, action: null });
  }

  /**
   * The journal stopped taking writes (`problem` says why, in words for the sender of a refused action), or took
   * them again (null). While it cannot write, creates and actions are refused with `journal-unavailable`, and no
   * run starts a new command: what is in flight finishes, and its events wait in memory for the disk. Interlocks
   * still take effect. Once it can write, every run goes on from where it waited.
   */
  setJournalWritable(problem: string | null): void {
    if (problem === this.journalProblem) return;
    this.journalProblem = problem;
    for (const run of this.runs.values()) this.input(run, { type: 'journal', problem });
  }

  /** How many runs have not finished. */
  activeRuns(): number {
    let active = 0;
    for (const run of this.runs.values()) if (!isFinished(run.state)) active++;
    return active;
  }

  /**
   * A message on a topic some wait-for subscribed to (through `output.subscribe`): every run whose wait listens on
   * a filter it matches gets it. `retained` when the broker delivered it from before the subscription.
   */
  external(topic: string, payload: string, retained: boolean): void {
    for (const run of this.runs.values()) {
      const sub = run.state.io.subscription;
      if (sub && topicMatches(sub.topic, topic)) this.input(run, { type: 'external', topic, payload, retained });
    }
  }

  /** The topic filters the runs' waits listen on now (to subscribe again after a reconnect to a broker that forgot). */
  listeningTopics(): string[] {
    return [...this.listening.keys()];
  }

  /** The safety interlock of a device opened (active) or closed under its runs. */
  setInterlock(deviceId: string, active: boolean, message: string): void {
    for (const run of this.runs.values()) if (run.state.deviceId === deviceId && !isFinished(run.state)) this.input(run, { type: 'interlock', active, message });
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
      // A finished run's only device requests are the switch-offs of its outputs: they still go through.
      this.release(this.runs.get(runId)!, false);
      this.publisher.forget(runId);
      this.runs.delete(runId);
    }
    return finished;
  }

  /** Publish every run's status again (after a reconnect, so retained state is whole). */
  republish(): void {
    for (const run of this.runs.values()) {
      this.options.output.status(toStatusDocument(run.state));
      this.publisher.commandsNow(run.state);
    }
  }

  /** Stop timers and in-flight hardware requests; the engine is not used after this. */
  dispose(): void {
    for (const run of this.runs.values()) this.release(run);
    this.publisher.dispose();
  }

  private release(run: Run, abortRequests = true): void {
    for (const handle of run.timers.values()) this.clock.clearTimeout(handle);
    run.timers.clear();
    if (abortRequests) for (const abort of run.requests.values()) abort.abort();
    run.requests.clear();
  }

  private isoNow(): string {
    // A burst of steps within one millisecond formats the time once.
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

  /** Step the run, publish what it produced, and carry out its effects. */
  private input(run: Run, body: InputBody, statusAnyway = false): void {
    if (this.runs.get(run.state.runId) !== run) return; // forgotten meanwhile
    const wasFinished = isFinished(run.state);
    const { state, events, effects, replies, answer } = step(run.state, { ...body, at: this.isoNow() } as Input);
    run.state = state;
    const { output } = this.options;
    for (const reply of replies) {
      if (reply.seq !== 0 && output.answerAgain) output.answerAgain(reply);
      else output.event(reply);
    }
    let changed = statusAnyway;
    // A stop during recovery ends the failed command's record with no command event of its own.
    let commandsChanged = !wasFinished && isFinished(state);
    for (const [i, event] of events.entries()) {
      output.event(event);
      if (event.type !== 'action.rejected') changed = true;
      if (event.type.startsWith('command.')) commandsChanged = true;
      if (answer && i === answer.events - 1) output.status(toStatusDocument(answer.state));
    }
    if (changed) output.status(toStatusDocument(state));
    if (commandsChanged) this.publisher.commandsChanged(state);
    for (const effect of effects) this.carryOut(run, effect);
  }

  private carryOut(run: Run, effect: Effect): void {
    const { hardware } = this.options;
    const deviceId = run.state.deviceId;
    switch (effect.kind) {
      case 'perform': {
        const abort = new AbortController();
        run.requests.set(effect.id, abort);
        const before = effect.after === null ? undefined : run.releases.get(effect.after);
        const sent = before ? before.then(() => hardware.perform(deviceId, effect.request, abort.signal)) : hardware.perform(deviceId, effect.request, abort.signal);
        sent.then(
          (data) => {
            run.requests.delete(effect.id);
            this.input(run, { type: 'result', effectId: effect.id, ok: true, data: data ?? undefined });
          },
          (error: HardwareError) => {
            run.requests.delete(effect.id);
            const failure = { code: error.code ?? 'hardware-error', message: error.message, positionLost: error.positionLost };
            this.input(run, { type: 'result', effectId: effect.id, ok: false, error: failure });
          },
        );
        return;
      }
      case 'hold':
        hardware.hold(deviceId).then(
          () => this.input(run, { type: 'result', effectId: effect.id, ok: true }),
          (error: HardwareError) => this.input(run, { type: 'result', effectId: effect.id, ok: false, error: { code: error.code ?? 'hardware-error', message: error.message } }),
        );
        return;
      case 'release': {
        const done = hardware.release(deviceId).catch(() => undefined);
        run.releases.set(effect.id, done);
        void done.then(() => run.releases.delete(effect.id));
        return;
      }
      case 'abort':
        run.requests.get(effect.id)?.abort();
        return;
      case 'start-timer': {
        const handle = this.clock.setTimeout(() => {
          run.timers.delete(effect.id);
          this.input(run, { type: 'timer', timerId: effect.id });
        }, effect.ms);
        run.timers.set(effect.id, handle);
        return;
      }
      case 'cancel-timer': {
        const handle = run.timers.get(effect.id);
        if (handle !== undefined) this.clock.clearTimeout(handle);
        run.timers.delete(effect.id);
        return;
      }
      case 'yield':
        setImmediate(() => this.input(run, { type: 'continue' }));
        return;
      case 'publish':
        this.options.output.message?.(effect.topic, effect.payload, effect.retain);
        return;
      case 'subscribe': {
        // Runs share a broker subscription: the first wait on a filter subscribes, the last one to end unsubscribes.
        const count = this.listening.get(effect.topic) ?? 0;
        this.listening.set(effect.topic, count + 1);
        // A subscription about to be dropped (an earlier wait on it just ended) is still there: keep it.
        if (count === 0 && !this.unsubscribing.delete(effect.topic)) this.options.output.subscribe?.(effect.topic);
        return;
      }
      case 'unsubscribe': {
        const count = (this.listening.get(effect.topic) ?? 1) - 1;
        if (count > 0) this.listening.set(effect.topic, count);
        else {
          this.listening.delete(effect.topic);
          // Once the step's effects are done: a wait that ends and the next that starts on the same topic (in one
          // step) keep the broker subscription instead of dropping it and asking again.
          this.unsubscribing.add(effect.topic);
          queueMicrotask(() => {
            if (this.unsubscribing.delete(effect.topic) && !this.listening.has(effect.topic)) this.options.output.unsubscribe?.(effect.topic);
          });
        }
        return;
      }
    }
  }
}
