// Property-based fuzzing of the engine: random protocols driven by random sequences of actions, hardware
// outcomes, holds, interlocks and passing time. Whatever happens, the engine never throws, every event and
// status it publishes is valid, seqs are contiguous, a finished run stays finished, progress never goes back,
// and an action is accepted exactly when the last status listed it in allowedActions.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACTION_TYPES, RunEvent, RunStatusDocument, type Command, type ErrorRecoveryPolicy, type ProtocolDocument, type RunEventOf } from '@labrun/contracts';
import { Engine } from './engine.js';
import { apply, createState } from './apply.js';
import { toStatusDocument } from './status.js';
import type { HardwareCommand, HardwarePort } from './ports.js';

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ type: 'home' as const }),
  fc.record({ type: fc.constant('move' as const), params: fc.record({ x: fc.integer({ min: 0, max: 100 }), feed: fc.constant(1000) }) }),
  fc.record({ type: fc.constant('pause' as const), params: fc.record({ message: fc.string({ maxLength: 10 }) }) }),
  fc.record({ type: fc.constant('delay' as const), params: fc.record({ seconds: fc.integer({ min: 1, max: 5 }) }) }),
  fc.record({ type: fc.constant('comment' as const), params: fc.record({ message: fc.string({ maxLength: 10 }) }) }),
  fc.record({ type: fc.constant('pause' as const), params: fc.record({ timeoutSeconds: fc.integer({ min: 1, max: 5 }) }) }),
  fc.record({ type: fc.constant('publish' as const), params: fc.record({ topic: fc.constant('lab/out'), payload: fc.string({ maxLength: 5 }) }) }),
  fc.record({
    type: fc.constant('wait-for' as const),
    params: fc.record(
      { topic: fc.constant('lab/in'), field: fc.constant('ok'), equals: fc.constant(true), timeoutSeconds: fc.integer({ min: 1, max: 5 }), retained: fc.boolean() },
      { requiredKeys: ['topic'] },
    ),
  }),
  fc.record({ type: fc.constant('set-output' as const), params: fc.record({ output: fc.constantFrom('pump', 'valve'), value: fc.constantFrom(0, 0.5, 1) }) }),
);

const policy: fc.Arbitrary<ErrorRecoveryPolicy | undefined> = fc.option(
  fc.record({
    default: fc.constantFrom('wait' as const, 'fail' as const),
    rules: fc.array(fc.record({ code: fc.constantFrom('alarm', 'grbl-error', 'disconnected'), then: fc.constantFrom('wait' as const, 'fail' as const, 'skip' as const) }), { maxLength: 2 }),
  }),
  { nil: undefined },
);

type Step =
  | { kind: 'act'; type: (typeof ACTION_TYPES)[number]; id: string | undefined; mode: 'immediate' | 'deferred' | undefined }
  | { kind: 'motion'; outcome: 'done' | 'fail' | 'disconnect' | 'limit' }
  | { kind: 'held' }
  | { kind: 'interlock'; active: boolean }
  | { kind: 'time'; ms: number }
  | { kind: 'message'; ok: boolean; retained: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('act' as const),
      // Pause and resume most often: they lead to the states (pausing, held, paused mid-delay) worth visiting.
      type: fc.constantFrom('pause', 'pause', 'pause', 'resume', 'resume', 'resume', 'play', 'stop', 'skip-delay', 'retry', 'retry', 'skip', 'home', 'home', 'unlock'),
      id: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined, freq: 3 }),
      mode: fc.option(fc.constantFrom('immediate' as const, 'deferred' as const), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('motion' as const),
      outcome: fc.constantFrom('done' as const, 'done' as const, 'done' as const, 'fail' as const, 'disconnect' as const, 'limit' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'held' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('interlock' as const), active: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 6000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('message' as const), ok: fc.boolean(), retained: fc.boolean() }) },
);

describe('the engine under random inputs', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2026-11-24T10:00:00.000Z') }));
  afterEach(() => vi.useRealTimers());

  it('keeps every invariant of the contract', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), fc.array(step, { maxLength: 40 }), policy, async (commands, randomSteps, errorRecovery) => {
        const steps: Step[] = [{ kind: 'act', type: 'play', id: undefined, mode: undefined }, ...randomSteps];
        const motions: Array<{ resolve(): void; reject(e: Error): void }> = [];
        const holds: Array<() => void> = [];
        const performed: HardwareCommand[] = [];
        const hardware: HardwarePort = {
          perform: (_d, request, signal) =>
            new Promise((resolve, reject) => {
              performed.push(request);
              signal.addEventListener('abort', () => reject(new Error('motion stopped')));
              motions.push({ resolve, reject });
            }),
          hold: () => new Promise((resolve) => holds.push(resolve)),
          release: async () => {},
        };
        const events: RunEvent[] = [];
        const statuses: RunStatusDocument[] = [];
        let n = 0;
        const engine = new Engine({ hardware, defaultDeviceId: 'sim-1', newId: () => `e-${++n}`, output: { event: (e) => events.push(e), status: (s) => statuses.push(s) } });
        const protocol: ProtocolDocument = { schemaVersion: 1, metadata: { name: 'fuzz' }, commands };
        engine.create('r', { protocol, ...(errorRecovery ? { errorRecovery } : {}) });

        for (const s of steps) {
          const before = statuses.at(-1)!;
          const eventsBefore = events.length;
          switch (s.kind) {
            case 'act': {
              engine.act('r', { type: s.type, ...(s.id ? { id: s.id } : {}), ...(s.mode && s.type === 'pause' ? { mode: s.mode } : {}) });
              const answer = events.slice(eventsBefore).find((e) => e.type === 'action.accepted' || e.type === 'action.rejected');
              const repeated = s.id !== undefined && events.slice(0, eventsBefore).some((e) => 'actionId' in e && e.actionId === s.id);
              if (repeated) {
                // A repeated id: answered with its first answer, and nothing changes.
                expect(statuses.at(-1)).toBe(before);
              } else {
                expect(answer?.type).toBe(before.allowedActions.includes(s.type) ? 'action.accepted' : 'action.rejected');
              }
              break;
            }
            case 'motion': {
              const m = motions.shift();
              if (!m) break;
              if (s.outcome === 'done') m.resolve();
              else if (s.outcome === 'fail') m.reject(Object.assign(new Error('error:9'), { code: 'grbl-error' }));
              else m.reject(Object.assign(new Error(s.outcome), { code: s.outcome === 'disconnect' ? 'disconnected' : 'alarm', positionLost: true }));
              break;
            }
            case 'held':
              holds.shift()?.();
              break;
            case 'interlock':
              engine.setInterlock('sim-1', s.active, s.active ? 'door open' : 'door closed');
              break;
            case 'time':
              break;
            case 'message':
              engine.external('lab/in', JSON.stringify({ ok: s.ok }), s.retained);
              break;
          }
          await vi.advanceTimersByTimeAsync(s.kind === 'time' ? s.ms : 0);
          const after = statuses.at(-1)!;
          if (['stopped', 'succeeded', 'failed'].includes(before.status)) expect(after.status).toBe(before.status);
          expect(after.progress.completed).toBeGreaterThanOrEqual(before.progress.completed);
          expect(after.progress.completed).toBeLessThanOrEqual(commands.length);
          // Why it waits is always said, and only while it waits.
          const waiting = ['paused', 'pausing', 'blocked', 'awaiting-recovery'].includes(after.status);
          expect(after.pause !== null, JSON.stringify(after)).toBe(waiting || after.status === 'stopping');
          if (after.status === 'running' || after.status === 'idle') expect(after.pause).toBeNull();
          if (after.pause) {
            const { reasons, ...headline } = after.pause;
            expect(reasons).toContainEqual(headline);
          }
          if (after.status === 'awaiting-recovery') {
            expect(after).toMatchObject({ pause: { source: 'error' }, error: { commandIndex: after.current!.index }, recovery: { attempt: expect.any(Number) } });
            expect(after.allowedActions).toContain('stop');
          } else {
            expect(after.recovery).toBeNull();
          }
          // The journal is the run: its events folded again give exactly the status published (refusals after the
          // last status change it only in seq).
          const history = [...new Map(events.filter((e) => e.seq > 1 && e.seq <= after.seq).map((e) => [e.seq, e] as const)).values()]; // a re-sent answer is not new history
          const [created] = events;
          let folded = createState(created as RunEventOf<'run.created'>);
          for (const e of history) folded = apply(folded, e);
          expect(toStatusDocument(folded)).toEqual(after);
        }
        // Every output the run switched on (or tried to) was last asked to switch off, once the run has ended.
        if (['stopped', 'succeeded', 'failed'].includes(statuses.at(-1)!.status)) {
          const last = new Map<string, number>();
          for (const request of performed) if (request.op === 'set-output') last.set(request.output, request.value);
          for (const [output, value] of last) expect(value, `${output} left at ${value}`).toBe(0);
        }
        engine.dispose();
        for (const e of events) expect(RunEvent.safeParse(e).success, JSON.stringify(e)).toBe(true);
        for (const s of statuses) expect(RunStatusDocument.safeParse(s).success, JSON.stringify(s)).toBe(true);
        const seqs = events.filter((e) => e.seq > 0).map((e) => e.seq);
        const unique = [...new Set(seqs)];
        expect(unique).toEqual(unique.map((_, i) => i + 1)); // repeats are re-sent answers, never new numbers
      }),
      { numRuns: 500 },
    );
  });
});
