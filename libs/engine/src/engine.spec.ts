// The engine carrying out runs against a fake hardware port and fake timers.
import type { ProtocolDocument, RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Engine } from './engine.js';
import type { HardwarePort, HardwareCommand as MotionCommand } from './ports.js';
import { protocol } from './fixtures.spec-helpers.js';

interface Call {
  deviceId: string;
  command: MotionCommand;
  signal: AbortSignal;
  done(): void;
  fail(message: string, code?: string, positionLost?: boolean): void;
}

let engines = 0;

function setup(options: { maxActiveRuns?: number } = {}) {
  const calls: Call[] = [];
  /** Feed holds asked for, each resolved by the test when the "controller" reports Hold:0. */
  const holds: Array<() => void> = [];
  let releases = 0;
  const hardware: HardwarePort = {
    perform: (deviceId, command, signal) =>
      new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('motion stopped')));
        calls.push({ deviceId, command, signal, done: resolve, fail: (m, code, positionLost) => reject(Object.assign(new Error(m), { code, ...(positionLost ? { positionLost } : {}) })) });
      }),
    hold: () => new Promise<void>((resolve) => holds.push(resolve)),
    release: async () => {
      releases++;
    },
  };
  const events: RunEvent[] = [];
  const statuses: RunStatusDocument[] = [];
  const commandDocs: RunCommandsDocument[] = [];
  // Engine-assigned action ids must never repeat, not even across engines (a restored run remembers them).
  const engineNo = ++engines;
  let ids = 0;
  const answeredAgain: RunEvent[] = [];
  const engine = new Engine({
    hardware,
    defaultDeviceId: 'sim-1',
    output: { event: (e) => events.push(e), answerAgain: (e) => answeredAgain.push(e), status: (s) => statuses.push(s), commands: (c) => commandDocs.push(c) },
    newId: () => `engine-${engineNo}-${++ids}`,
    ...options,
  });
  const last = () => statuses.at(-1)!;
  const flush = () => vi.advanceTimersByTimeAsync(0);
  return { engine, calls, events, answeredAgain, statuses, commandDocs, last, flush, holds, releases: () => releases };
}

describe('Engine', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2026-11-24T10:00:00.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the example protocol: home, move, protocol pause until resumed, delay, comment, succeeded', async () => {
    const { engine, calls, events, last, flush } = setup();
    engine.create('r-1', { protocol });
    expect(last()).toMatchObject({ status: 'idle', allowedActions: ['play', 'stop'] });
    engine.act('r-1', { type: 'play' });
    expect(calls.map((c) => c.command)).toEqual([{ op: 'home' }]);
    calls[0]!.done();
    await flush();
    expect(calls[1]!.command).toEqual({ op: 'move', params: { x: 10, y: 20, z: 5, feed: 3000 } });
    calls[1]!.done();
    await flush();
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'protocol', message: 'Check the samples' }, current: { index: 2, type: 'pause' } });
    await vi.advanceTimersByTimeAsync(60_000); // nothing resumes a paused run but a resume
    expect(last().status).toBe('paused');
    engine.act('r-1', { type: 'resume' });
    expect(last()).toMatchObject({ status: 'running', current: { index: 3, type: 'delay' }, delay: { remainingSeconds: 30 } });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(last().current?.type).toBe('delay');
    await vi.advanceTimersByTimeAsync(1);
    expect(last()).toMatchObject({ status: 'succeeded', progress: { completed: 5, total: 5 }, allowedActions: [] });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it('answers a repeated action id again as an answer, never as a new event of the run', () => {
    const { engine, events, answeredAgain } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play', id: 'a-1' });
    const before = events.length;
    engine.act('r-1', { type: 'play', id: 'a-1' });
    engine.act('r-1', { type: 'stop', id: 'a-1' });
    expect(events.length).toBe(before);
    expect(answeredAgain).toHaveLength(2);
    expect(answeredAgain[0]).toMatchObject({ type: 'action.accepted', actionId: 'a-1', action: 'play', seq: 2 });
    expect(answeredAgain[1]).toBe(answeredAgain[0]);
  });

  it('while the journal cannot write: refuses creates and actions (journal-unavailable), starts no command, and goes on once it can', async () => {
    const { engine, calls, events, last, flush } = setup();
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'home' }, { type: 'comment', params: { message: 'next' } }] } });
    engine.act('r-1', { type: 'play' });
    expect(calls).toHaveLength(1);
    engine.setJournalWritable('the engine cannot write its journal (ENOSPC)');
    engine.create('r-2', { protocol });
    engine.act('r-1', { type: 'pause', id: 'p-1' });
    const refusals = events.filter((e) => e.seq === 0);
    expect(refusals).toMatchObject([
      { type: 'run.rejected', runId: 'r-2', code: 'journal-unavailable', message: 'cannot create run r-2: the engine cannot write its journal (ENOSPC)' },
      { type: 'action.rejected', runId: 'r-1', actionId: 'p-1', action: 'pause', code: 'journal-unavailable' },
    ]);
    expect(engine.get('r-2')).toBeUndefined();
    expect(last().status).toBe('running');
    // The move in flight finishes; the next command waits for the disk.
    calls[0]!.done();
    await flush();
    expect(last()).toMatchObject({ status: 'running', current: null, progress: { completed: 1 } });
    engine.setJournalWritable(null);
    expect(last()).toMatchObject({ status: 'succeeded', progress: { completed: 2 } });
    engine.create('r-2', { protocol });
    expect(engine.get('r-2')?.status).toBe('idle');
  });

  it('refuses a create beyond maxActiveRuns unfinished runs (too-many-runs), and takes one again once a run has finished', () => {
    const { engine, events } = setup({ maxActiveRuns: 2 });
    engine.create('r-1', { protocol });
    engine.create('r-2', { protocol });
    engine.create('r-3', { protocol });
    expect(events.at(-1)).toMatchObject({ type: 'run.rejected', runId: 'r-3', seq: 0, code: 'too-many-runs' });
    expect(engine.get('r-3')).toBeUndefined();
    engine.act('r-1', { type: 'stop' });
    engine.create('r-3', { protocol });
    expect(engine.get('r-3')?.status).toBe('idle');
    expect(engine.activeRuns()).toBe(2);
  });

  it('pruneFinished keeps the newest `keep` finished runs, however many runs have not finished', () => {
    const { engine } = setup({ maxActiveRuns: 100 });
    for (let i = 1; i <= 6; i++) engine.create(`r-${i}`, { protocol });
    for (const i of [1, 2, 3]) {
      vi.advanceTimersByTime(1000);
      engine.act(`r-${i}`, { type: 'stop' });
    }
    expect(engine.pruneFinished(2)).toEqual(['r-1']);
    expect(engine.list().map((r) => r.runId)).toEqual(['r-2', 'r-3', 'r-4', 'r-5', 'r-6']);
    expect(engine.pruneFinished(2)).toEqual([]);
  });

  it("switches a run's outputs off when it ends, and a pruned run's switch-off still reaches the device", async () => {
    const { engine, calls, flush } = setup();
    const pumping: ProtocolDocument = {
      schemaVersion: 1,
      metadata: { name: 'pump' },
      commands: [
        { type: 'set-output', params: { output: 'pump', value: 0.5 } },
        { type: 'delay', params: { seconds: 60 } },
      ],
    };
    engine.create('r-1', { protocol: pumping });
    engine.act('r-1', { type: 'play' });
    expect(calls.map((c) => c.command)).toEqual([{ op: 'set-output', output: 'pump', value: 0.5 }]);
    calls[0]!.done();
    await flush();
    engine.act('r-1', { type: 'stop' });
    expect(calls.map((c) => c.command)).toEqual([
      { op: 'set-output', output: 'pump', value: 0.5 },
      { op: 'set-output', output: 'pump', value: 0 },
    ]);
    expect(engine.pruneFinished(0)).toEqual(['r-1']);
    expect(calls[1]!.signal.aborted).toBe(false);
  });

  it('freezes a delay while paused and finishes it after the time that was left', async () => {
    const { engine, last } = setup();
    engine.create('r-1', {
      protocol: {
        ...protocol,
        commands: [
          { type: 'delay', params: { seconds: 30 } },
          { type: 'comment', params: { message: 'after' } },
        ],
      },
    });
    engine.act('r-1', { type: 'play' });
    await vi.advanceTimersByTimeAsync(10_000);
    engine.act('r-1', { type: 'pause' });
    expect(last()).toMatchObject({ status: 'paused', delay: { remainingSeconds: 20, endsAt: null } });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(last()).toMatchObject({ status: 'paused', delay: { remainingSeconds: 20 } });
    engine.act('r-1', { type: 'resume' });
    await vi.advanceTimersByTimeAsync(19_900);
    expect(last().current?.type).toBe('delay');
    await vi.advanceTimersByTimeAsync(100);
    expect(last().status).toBe('succeeded');
  });

  it('ends a delay on skip-delay', async () => {
    const { engine, last } = setup();
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'delay', params: { seconds: 3600 } }] } });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'skip-delay' });
    expect(last().status).toBe('succeeded');
  });

  it('stop aborts motion on the hardware, and the move fails "run stopped"', async () => {
    const { engine, calls, events, last, flush } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'stop' });
    expect(last().status).toBe('stopping');
    expect(calls[0]!.signal.aborted).toBe(true);
    await flush();
    expect(last().status).toBe('stopped');
    expect(events.find((e) => e.type === 'command.failed')).toMatchObject({ index: 0, code: 'stopped', message: 'run stopped' });
    expect(calls).toHaveLength(1);
  });

  it('a user pause during motion lets it finish (pausing), then holds the next command until resumed', async () => {
    const { engine, calls, last, flush } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'pause', by: 'ana', mode: 'deferred' });
    expect(last().status).toBe('pausing');
    calls[0]!.done();
    await flush();
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'user', by: 'ana' } });
    expect(calls).toHaveLength(1);
    engine.act('r-1', { type: 'resume' });
    expect(calls).toHaveLength(2);
  });

  it('applies an action id once and answers a repeat with the same event', () => {
    const { engine, events, answeredAgain, statuses } = setup();
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'pause' }, { type: 'pause' }] } });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'resume', id: 'a-7' });
    const published = statuses.length;
    engine.act('r-1', { type: 'resume', id: 'a-7' });
    const answers = events.filter((e) => e.type.startsWith('action.') && 'actionId' in e && e.actionId === 'a-7');
    expect(answers).toHaveLength(1);
    expect(answeredAgain).toEqual([answers[0]]);
    expect(statuses).toHaveLength(published);
    expect(statuses.at(-1)).toMatchObject({ status: 'paused', current: { index: 1 } });
  });

  it('rejects a resume while running with an event, and publishes no new status', () => {
    const { engine, events, statuses } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    const published = statuses.length;
    engine.act('r-1', { type: 'resume', id: 'a-1' });
    expect(events.at(-1)).toMatchObject({ type: 'action.rejected', actionId: 'a-1', action: 'resume', code: 'not-paused', message: 'cannot resume run r-1: it is running, not paused' });
    expect(statuses).toHaveLength(published);
  });

  it('fails the run with the hardware error', async () => {
    const { engine, calls, last, flush } = setup();
    engine.create('r-1', { protocol, errorRecovery: { default: 'fail' } });
    engine.act('r-1', { type: 'play' });
    calls[0]!.fail('ALARM:1 Hard limit triggered');
    await flush();
    expect(last()).toMatchObject({ status: 'failed', error: { code: 'hardware-error', message: 'ALARM:1 Hard limit triggered', commandIndex: 0 } });
  });

  it('treats a repeated create with the same document as harmless and refuses a different one', () => {
    const { engine, events } = setup();
    engine.create('r-1', { protocol });
    engine.create('r-1', { protocol: structuredClone(protocol) });
    expect(events.filter((e) => e.type === 'run.created')).toHaveLength(1);
    expect(events.some((e) => e.type === 'run.rejected')).toBe(false);
    engine.create('r-1', { protocol: { ...protocol, metadata: { name: 'other' } } });
    expect(events.at(-1)).toMatchObject({ type: 'run.rejected', code: 'run-exists', seq: 0 });
  });

  it('answers an action for an unknown run outside any history (seq 0)', () => {
    const { engine, events } = setup();
    engine.act('nope', { type: 'resume', id: 'a-1' });
    expect(events).toEqual([expect.objectContaining({ type: 'action.rejected', runId: 'nope', seq: 0, code: 'unknown-run', actionId: 'a-1' })]);
  });

  it("publishes the commands document with each command's status and times, at most every 200 ms, and at once at the end", async () => {
    const { engine, calls, commandDocs, flush } = setup();
    engine.create('r-1', { protocol });
    expect(commandDocs.at(-1)!.commands.map((c) => c.status)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
    engine.act('r-1', { type: 'play' });
    calls[0]!.done();
    await flush();
    calls[1]!.done();
    await flush();
    const published = commandDocs.length;
    await vi.advanceTimersByTimeAsync(200);
    expect(commandDocs.length).toBe(published + 1); // the starts and ends of three commands, coalesced into one
    expect(commandDocs.at(-1)!.commands.map((c) => c.status)).toEqual(['succeeded', 'succeeded', 'running', 'queued', 'queued']);
    expect(commandDocs.at(-1)!.commands[2]).toMatchObject({ command: { type: 'pause' }, startedAt: expect.any(String), completedAt: null });
    engine.act('r-1', { type: 'stop' });
    expect(commandDocs.at(-1)!.commands[2]).toMatchObject({ status: 'failed', error: { code: 'stopped', message: 'run stopped' } });
  });

  it("publishes a run's new status before the commands document that goes with it, and the last one at once", () => {
    const order: string[] = [];
    const engine = new Engine({
      hardware: { perform: async () => {}, hold: async () => {}, release: async () => {} },
      defaultDeviceId: 'sim-1',
      output: { event: () => {}, status: (s) => order.push(`status ${s.status}`), commands: (c) => order.push(`commands ${c.commands.map((x) => x.status).join(',')}`) },
    });
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'pause' }, { type: 'comment', params: { message: 'after' } }] } });
    engine.act('r-1', { type: 'play' });
    order.length = 0;
    // Running at once (the answer to the resume); then the pause ends, the comment runs and the run succeeds in
    // one go: its status, then its last commands document (at once, though one was waiting for its 200 ms turn).
    engine.act('r-1', { type: 'resume' });
    expect(order).toEqual(['status running', 'status succeeded', 'commands succeeded,succeeded']);
  });

  it('gives one commands document for an action that ends one command and runs the next, though the document was due', async () => {
    const order: string[] = [];
    const engine = new Engine({
      hardware: { perform: async () => {}, hold: async () => {}, release: async () => {} },
      defaultDeviceId: 'sim-1',
      output: { event: () => {}, status: (s) => order.push(`status ${s.status}`), commands: (c) => order.push(`commands ${c.commands.map((x) => x.status).join(',')}`) },
    });
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'pause' }, { type: 'comment', params: { message: 'after' } }, { type: 'pause' }] } });
    engine.act('r-1', { type: 'play' });
    await vi.advanceTimersByTimeAsync(1000); // the last document is old: the next one is due at once
    order.length = 0;
    // The resume ends the first pause (the document is due), then the comment runs and the next pause starts:
    // one document with all of it, after the statuses.
    engine.act('r-1', { type: 'resume' });
    await Promise.resolve();
    expect(order).toEqual(['status running', 'status paused', 'commands succeeded,succeeded,running']);
  });

  it('blocks on the interlock and waits, paused, for an explicit resume once it clears', async () => {
    const { engine, calls, last } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    engine.setInterlock('sim-1', true, 'door open');
    expect(last()).toMatchObject({ status: 'blocked', allowedActions: ['stop'] });
    engine.setInterlock('sim-1', false, 'door closed');
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'interlock' }, allowedActions: ['play', 'resume', 'stop'] });
    expect(calls).toHaveLength(1);
  });

  it('keeps a protocol pause’s message and since while the interlock blocks the run, and after it clears and a restart', async () => {
    const { engine, calls, events, last, flush } = setup();
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'pause', params: { message: 'Label the tubes first' } }, { type: 'home' }] } });
    engine.act('r-1', { type: 'play' });
    // The headline stays the protocol's pause; the interlock joins it in pause.reasons.
    const { reasons: _alone, ...paused } = last().pause!;
    expect(paused).toMatchObject({ source: 'protocol', message: 'Label the tubes first' });
    await vi.advanceTimersByTimeAsync(5000);
    engine.setInterlock('sim-1', true, 'controller sim-1 is disconnected');
    expect(last()).toMatchObject({ status: 'blocked', pause: paused, interlock: { message: 'controller sim-1 is disconnected' }, allowedActions: ['stop'] });
    engine.act('r-1', { type: 'resume', id: 'too-soon' });
    expect(events.at(-1)).toMatchObject({ code: 'interlock-active', message: 'cannot resume run r-1: the interlock is active (controller sim-1 is disconnected)' });

    // Killed while blocked: the next engine brings it back paused by its protocol, as it was.
    const restarted = setup();
    restarted.engine.restore([events.slice()]);
    expect(restarted.last()).toMatchObject({ status: 'paused', pause: paused, interlock: null });

    engine.setInterlock('sim-1', false, 'controller sim-1 reconnected: check the machine, then resume');
    expect(last()).toMatchObject({ status: 'paused', pause: paused, interlock: null, allowedActions: ['play', 'resume', 'stop'] });
    engine.act('r-1', { type: 'resume' });
    await flush();
    expect(calls.map((c) => c.command.op)).toEqual(['home']);
  });
});

describe('Engine on real motion', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2026-11-24T10:00:00.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an immediate pause feed-holds the move: pausing until held, then paused; resume releases it and the move finishes', async () => {
    const { engine, calls, events, last, flush, holds, releases } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'pause', by: 'ana' });
    expect(last().status).toBe('pausing');
    expect(holds).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(120); // the controller decelerates
    holds[0]!();
    await flush();
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'user', by: 'ana', since: '2026-11-24T10:00:00.120Z' }, current: { index: 0 } });
    expect(events.at(-1)).toMatchObject({ type: 'motion.held', index: 0 });
    engine.act('r-1', { type: 'resume' });
    expect(releases()).toBe(1);
    expect(last()).toMatchObject({ status: 'running', current: { index: 0 } });
    calls[0]!.done();
    await flush();
    expect(calls[1]!.command.op).toBe('move');
  });

  it('a hold that lands as the last move ends leaves the run paused; resume releases the controller and finishes it', async () => {
    const { engine, calls, last, flush, holds, releases } = setup();
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'move', params: { x: 10, feed: 3000 } }] } });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'pause', by: 'ana' });
    holds[0]!(); // Hold:0 ...
    await flush();
    calls[0]!.done(); // ... and the move, at its end anyway, is done: GRBL still holds until cycle start
    await flush();
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'user', by: 'ana' }, current: null, completedAt: null });
    expect(releases()).toBe(0);
    engine.act('r-1', { type: 'resume' });
    await flush();
    expect(last()).toMatchObject({ status: 'succeeded', pause: null });
    expect(releases()).toBe(1); // the controller is not left holding
  });

  it('a held move that ends anyway: the next move is sent only after cycle start', async () => {
    const { engine, calls, last, flush, holds, releases } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'pause' });
    holds[0]!();
    await flush();
    calls[0]!.done();
    await flush();
    expect(last()).toMatchObject({ status: 'paused', current: null });
    expect(calls).toHaveLength(1); // paused: nothing new starts
    engine.act('r-1', { type: 'resume' });
    expect(releases()).toBe(1);
    await flush();
    expect(calls).toHaveLength(2);
  });

  it('a pause waiting for the last move to end leaves the run paused, not finished', async () => {
    const { engine, calls, last, flush } = setup();
    engine.create('r-1', { protocol: { ...protocol, commands: [{ type: 'move', params: { x: 10, feed: 3000 } }] } });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'pause', mode: 'deferred', message: 'check the samples' });
    calls[0]!.done();
    await flush();
    expect(last()).toMatchObject({ status: 'paused', pause: { message: 'check the samples' }, completedAt: null });
    engine.act('r-1', { type: 'resume' });
    expect(last()).toMatchObject({ status: 'succeeded' });
  });

  it('a deferred pause does not hold the motion', () => {
    const { engine, holds, last } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    engine.act('r-1', { type: 'pause', mode: 'deferred' });
    expect(last().status).toBe('pausing');
    expect(holds).toHaveLength(0);
  });

  it('the door holds the move (blocked); closing it leaves the run paused; resume releases the held move', async () => {
    const { engine, calls, last, flush, releases } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    engine.setInterlock('sim-1', true, 'door open');
    engine.act('r-1', { type: 'resume' });
    expect(last()).toMatchObject({ status: 'blocked', pause: { source: 'interlock', message: 'door open' } });
    engine.setInterlock('sim-1', false, 'door closed: check the machine, then resume');
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'interlock' } });
    expect(releases()).toBe(0); // never restarts motion by itself
    engine.act('r-1', { type: 'resume' });
    expect(releases()).toBe(1);
    calls[0]!.done();
    await flush();
    expect(last().current).toMatchObject({ index: 1, type: 'move' });
  });

  describe('the outputs a run had on, after recovery', () => {
    const pump = (value: number) => ({ type: 'set-output', params: { output: 'pump', value } });
    const withOutputs = (commands: unknown[]) => ({ ...protocol, commands }) as typeof protocol;

    it('are set again before the retried command: an alarm made GRBL switch them off', async () => {
      const { engine, calls, flush } = setup();
      engine.create('r-1', {
        protocol: withOutputs([
          { type: 'home' },
          pump(0.5),
          { type: 'set-output', params: { output: 'valve', value: 1 } },
          { type: 'move', params: { x: 10 } },
          { type: 'comment', params: { message: 'done' } },
        ]),
      });
      engine.act('r-1', { type: 'play' });
      for (let i = 0; i < 3; i++) {
        calls[i]!.done();
        await flush();
      }
      calls[3]!.fail('ALARM:1 Hard limit triggered', 'alarm', true);
      await flush();
      engine.act('r-1', { type: 'home' });
      calls[4]!.done();
      await flush();
      engine.act('r-1', { type: 'retry' });
      expect(calls.slice(5).map((c) => c.command)).toEqual([
        { op: 'set-output', output: 'pump', value: 0.5 },
        { op: 'set-output', output: 'valve', value: 1 },
        { op: 'move', params: { x: 10 } },
      ]);
    });

    it('a skipped set-output sets nothing: only what succeeded is set again, after a skip too', async () => {
      const { engine, calls, flush, last } = setup();
      engine.create('r-1', { protocol: withOutputs([pump(0.5), pump(1), { type: 'delay', params: { seconds: 5 } }]) });
      engine.act('r-1', { type: 'play' });
      calls[0]!.done();
      await flush();
      calls[1]!.fail('the device did not answer', 'timeout');
      await flush();
      expect(last()).toMatchObject({ status: 'awaiting-recovery' });
      engine.act('r-1', { type: 'skip' });
      expect(calls.slice(2).map((c) => c.command)).toEqual([{ op: 'set-output', output: 'pump', value: 0.5 }]);
      expect(last()).toMatchObject({ status: 'running', current: { type: 'delay' } });
    });

    it('none is sent when the run had none on', async () => {
      const { engine, calls, flush } = setup();
      engine.create('r-1', { protocol: withOutputs([{ type: 'home' }, pump(0.5), pump(0), { type: 'move', params: { x: 10 } }]) });
      engine.act('r-1', { type: 'play' });
      for (let i = 0; i < 3; i++) {
        calls[i]!.done();
        await flush();
      }
      calls[3]!.fail('error:9 G-code locked out during alarm or jog state', 'grbl-error');
      await flush();
      engine.act('r-1', { type: 'retry' });
      expect(calls.slice(4).map((c) => c.command.op)).toEqual(['move']);
    });
  });

  it('a controller that disconnects mid-move puts the run in recovery: position lost, retried only after the interlock clears and a home', async () => {
    const { engine, calls, events, last, flush } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    calls[0]!.done();
    await flush();
    engine.setInterlock('sim-1', true, 'controller sim-1 is disconnected');
    calls[1]!.fail('the serial line to sim-1 closed during the move', 'disconnected', true);
    await flush();
    expect(last()).toMatchObject({
      status: 'awaiting-recovery',
      error: { code: 'disconnected', commandIndex: 1, attempt: 1, positionLost: true },
      pause: { source: 'error', message: 'the serial line to sim-1 closed during the move' },
      interlock: { message: 'controller sim-1 is disconnected' },
      recovery: { attempt: 1, needsHome: true, fixit: null },
      allowedActions: ['stop', 'skip'],
    });
    expect(last().pause!.reasons.map((r) => r.source)).toEqual(['interlock', 'error']);
    engine.setInterlock('sim-1', false, 'controller sim-1 reconnected: check the machine, then resume');
    expect(last()).toMatchObject({ status: 'awaiting-recovery', interlock: null, allowedActions: ['stop', 'skip', 'home', 'unlock'] });
    engine.act('r-1', { type: 'retry' });
    expect(events.at(-1)).toMatchObject({ type: 'action.rejected', code: 'needs-home' });
    engine.act('r-1', { type: 'home' });
    expect(calls.at(-1)!.command).toEqual({ op: 'home' });
    expect(last()).toMatchObject({ status: 'awaiting-recovery', recovery: { needsHome: true, fixit: { action: 'home', ok: null } }, allowedActions: ['stop'] });
    calls.at(-1)!.done();
    await flush();
    expect(last()).toMatchObject({ status: 'awaiting-recovery', recovery: { needsHome: false, fixit: { action: 'home', ok: true } }, allowedActions: ['stop', 'retry', 'skip', 'home', 'unlock'] });
    engine.act('r-1', { type: 'retry' });
    expect(calls).toHaveLength(4);
    expect(calls[3]!.command).toEqual(calls[1]!.command);
    expect(events.at(-1)).toMatchObject({ type: 'command.started', index: 1, attempt: 2 });
    expect(last()).toMatchObject({ status: 'running', error: null, recovery: null, pause: null });
  });

  it('stop while awaiting recovery ends the run at once, the failed command staying failed', async () => {
    const { engine, calls, events, last, flush, commandDocs } = setup();
    engine.create('r-1', { protocol });
    engine.act('r-1', { type: 'play' });
    calls[0]!.fail('gone', 'disconnected');
    await flush();
    engine.act('r-1', { type: 'stop' });
    expect(last()).toMatchObject({ status: 'stopped', error: null, recovery: null, pause: null, allowedActions: [] });
    expect(events.filter((e) => e.type === 'command.failed')).toMatchObject([{ index: 0, code: 'disconnected', recovery: 'wait' }]);
    expect(commandDocs.at(-1)!.commands[0]).toMatchObject({ status: 'failed', error: { code: 'disconnected', message: 'gone' } });
  });

  it('an alarm waits for recovery with the controller message, or fails the run when the policy says fail', async () => {
    const alarm = 'ALARM:1 Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended.';
    const waits = setup();
    waits.engine.create('r-1', { protocol });
    waits.engine.act('r-1', { type: 'play' });
    waits.calls[0]!.fail(alarm, 'alarm', true);
    await waits.flush();
    expect(waits.last()).toMatchObject({ status: 'awaiting-recovery', error: { code: 'alarm', message: alarm, commandIndex: 0, positionLost: true }, current: { index: 0, type: 'home' } });
    const fails = setup();
    fails.engine.create('r-1', { protocol, errorRecovery: { default: 'fail' } });
    fails.engine.act('r-1', { type: 'play' });
    fails.calls[0]!.fail(alarm, 'alarm', true);
    await fails.flush();
    expect(fails.last()).toMatchObject({ status: 'failed', error: { code: 'alarm', message: expect.stringMatching(/^ALARM:1 Hard limit triggered/), commandIndex: 0 } });
  });
});

describe('Engine with many instant commands', () => {
  it('runs 10,000 comments to the end, yielding to other work between batches', async () => {
    const { engine, events, last } = setup();
    const commands = Array.from({ length: 10_000 }, (_, i) => ({ type: 'comment' as const, params: { message: `c${i}` } }));
    const big: ProtocolDocument = { schemaVersion: 1, metadata: { name: 'many' }, commands };
    engine.create('r-1', { protocol: big });
    engine.act('r-1', { type: 'play' });
    expect(last().status).toBe('running'); // not all in one synchronous go
    engine.act('r-1', { type: 'pause' }); // an action gets in between batches
    expect(last().status).toBe('paused');
    engine.act('r-1', { type: 'resume' });
    await vi.waitFor(() => expect(last().status).toBe('succeeded'), { timeout: 10_000 });
    expect(last().progress).toEqual({ completed: 10_000, total: 10_000 });
    expect(events.filter((e) => e.type === 'command.succeeded')).toHaveLength(10_000);
  });
});

describe('Engine after a restart (restore)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2026-11-24T10:00:00.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Run an engine to some point, and return the events it produced (its journal). */
  async function historyUntil(drive: (s: ReturnType<typeof setup>) => Promise<void>): Promise<RunEvent[]> {
    const first = setup();
    first.engine.create('r-1', { protocol });
    await drive(first);
    first.engine.dispose();
    return first.events.filter((e) => e.seq > 0);
  }

  it('brings a run that was mid-move back paused (source recovery), naming the move, and re-sends it on resume', async () => {
    const history = await historyUntil(async ({ engine, calls, flush }) => {
      engine.act('r-1', { type: 'play' });
      calls[0]!.done();
      await flush();
    });
    const { engine, calls, last, flush, releases } = setup();
    engine.restore([history]);
    expect(last()).toMatchObject({
      status: 'paused',
      pause: { source: 'recovery', message: 'the engine restarted during move (command 2 of 5): check the machine, then resume to carry it out again' },
      current: { index: 1, type: 'move' },
      progress: { completed: 1, total: 5 },
      seq: history.length + 1,
    });
    expect(calls).toHaveLength(0); // nothing moves until someone resumes
    engine.act('r-1', { type: 'resume' });
    await flush();
    expect(releases()).toBe(1);
    expect(calls.map((c) => c.command.op)).toEqual(['move']); // home was done already: not done again
  });

  describe('a raw G-code block the restart interrupted', () => {
    const block = {
      ...protocol,
      commands: [{ type: 'home' }, { type: 'gcode', params: { lines: ['G91', 'G1 Z-2 F300', 'G90'] } }, { type: 'comment', params: { message: 'done' } }],
    } as typeof protocol;
    async function midBlock(options: { errorRecovery?: { default: 'fail' }; pauseFirst?: boolean } = {}) {
      const first = setup();
      first.engine.create('r-1', { protocol: block, ...(options.errorRecovery ? { errorRecovery: options.errorRecovery } : {}) });
      first.engine.act('r-1', { type: 'play' });
      first.calls[0]!.done();
      await first.flush();
      expect(first.calls.map((c) => c.command.op)).toEqual(['home', 'gcode']);
      if (options.pauseFirst) {
        first.engine.act('r-1', { type: 'pause' });
        first.holds[0]!();
        await first.flush();
        expect(first.last().status).toBe('paused');
      }
      first.engine.dispose();
      return first.events.filter((e) => e.seq > 0);
    }

    it('is not sent again on its own: the run waits in recovery, code interrupted, and skip goes on without it', async () => {
      const history = await midBlock();
      const { engine, calls, last, flush, releases } = setup();
      engine.restore([history]);
      expect(last()).toMatchObject({
        status: 'awaiting-recovery',
        error: {
          code: 'interrupted',
          commandIndex: 1,
          attempt: 1,
          message: expect.stringMatching(/^the engine restarted during gcode \(command 2 of 3\): it may have been carried out in part or in full/),
        },
        allowedActions: expect.arrayContaining(['retry', 'skip', 'stop']),
      });
      expect(last().allowedActions).not.toContain('resume');
      await flush();
      expect(calls).toHaveLength(0);
      engine.act('r-1', { type: 'skip' });
      await flush();
      expect(calls).toHaveLength(0); // the comment needs no device
      expect(last()).toMatchObject({ status: 'succeeded' });
      expect(releases()).toBe(0);
    });

    it('retry sends the block once more, after a cycle start for what the controller may still hold', async () => {
      const history = await midBlock({ pauseFirst: true });
      const { engine, calls, last, flush, releases } = setup();
      engine.restore([history]);
      expect(last()).toMatchObject({ status: 'awaiting-recovery', error: { code: 'interrupted' } });
      engine.act('r-1', { type: 'retry' });
      await flush();
      expect(releases()).toBe(1);
      expect(calls.map((c) => c.command.op)).toEqual(['gcode']);
      calls[0]!.done();
      await flush();
      expect(last()).toMatchObject({ status: 'succeeded' });
    });

    it('fails the run at once when its policy says fail', async () => {
      const history = await midBlock({ errorRecovery: { default: 'fail' } });
      const { engine, last } = setup();
      engine.restore([history]);
      expect(last()).toMatchObject({ status: 'failed', error: { code: 'interrupted', commandIndex: 1 } });
    });
  });

  it('sets the outputs the run had on again when it is resumed after the restart (the controller may have restarted too)', async () => {
    const first = setup();
    first.engine.create('r-1', {
      protocol: { ...protocol, commands: [{ type: 'home' }, { type: 'set-output', params: { output: 'pump', value: 0.5 } }, { type: 'move', params: { x: 10 } }] } as typeof protocol,
    });
    first.engine.act('r-1', { type: 'play' });
    for (let i = 0; i < 2; i++) {
      first.calls[i]!.done();
      await first.flush();
    }
    expect(first.calls.at(-1)!.command.op).toBe('move');
    first.engine.dispose();
    const { engine, calls, last, flush, releases } = setup();
    engine.restore([first.events.filter((e) => e.seq > 0)]);
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'recovery' } });
    engine.act('r-1', { type: 'resume' });
    await flush();
    expect(releases()).toBe(1);
    expect(calls.map((c) => c.command)).toEqual([
      { op: 'set-output', output: 'pump', value: 0.5 },
      { op: 'move', params: { x: 10 } },
    ]);
  });

  it('brings a paused run back exactly as it was: same source, message and since', async () => {
    const history = await historyUntil(async ({ engine, calls, flush }) => {
      engine.act('r-1', { type: 'play' });
      calls[0]!.done();
      await flush();
      calls[1]!.done();
      await flush();
    });
    const paused = toStatusDocumentOf(history);
    const { engine, last } = setup();
    engine.restore([history]);
    expect(last()).toEqual({ ...paused, updatedAt: paused.updatedAt });
    expect(last().pause).toMatchObject({ source: 'protocol', message: 'Check the samples' });
  });

  it('finishes a stop that was under way, and keeps finished runs as they were', async () => {
    const stopping = await historyUntil(async ({ engine }) => {
      engine.act('r-1', { type: 'play' });
      engine.act('r-1', { type: 'stop' });
    });
    const { engine, last, events } = setup();
    engine.restore([stopping]);
    expect(last()).toMatchObject({ status: 'stopped' });
    const done = last();
    const committed = events.length;
    engine.restore([stopping]); // restoring a run that exists already changes nothing
    expect(events).toHaveLength(committed);
    expect(last()).toEqual(done);
  });

  it('continues a delay after the restart from what was left of it', async () => {
    const history = await historyUntil(async ({ engine }) => {
      engine.create('r-2', { protocol: { ...protocol, commands: [{ type: 'delay', params: { seconds: 10 } }] } });
      engine.act('r-2', { type: 'play' });
      await vi.advanceTimersByTimeAsync(4000);
    });
    await vi.advanceTimersByTimeAsync(1000); // the engine was down for a second
    const { engine, last } = setup();
    engine.restore([history.filter((e) => e.runId === 'r-2')]);
    expect(last()).toMatchObject({ status: 'paused', pause: { source: 'recovery' }, delay: { remainingSeconds: 5 } });
    engine.act('r-2', { type: 'resume' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(last().status).toBe('succeeded');
  });
});

function toStatusDocumentOf(history: RunEvent[]): RunStatusDocument {
  const statuses: RunStatusDocument[] = [];
  const engine = new Engine({
    hardware: { perform: () => new Promise(() => {}), hold: async () => {}, release: async () => {} },
    defaultDeviceId: 'sim-1',
    output: { event: () => {}, status: (s) => statuses.push(s) },
  });
  engine.restore([history]);
  return statuses.at(-1)!;
}
