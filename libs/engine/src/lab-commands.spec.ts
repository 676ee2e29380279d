// The commands that talk to other systems and let a protocol resume itself: publish, wait-for and a timed pause,
// through the Engine with fake timers and a recorded output (what it publishes and subscribes to).
import type { Command, ProtocolDocument, RunEvent, RunStatusDocument, Travel } from '@labrun/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Engine } from './engine.js';

function setup(protocolTopics?: string[], travel?: Travel) {
  const events: RunEvent[] = [];
  const statuses: RunStatusDocument[] = [];
  const published: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const subscriptions: string[] = [];
  const log: string[] = [];
  const output = {
    event: (e: RunEvent) => events.push(e),
    status: (s: RunStatusDocument) => statuses.push(s),
    message: (topic: string, payload: string, retain: boolean) => published.push({ topic, payload, retain }),
    subscribe: (topic: string) => (subscriptions.push(topic), log.push(`subscribe ${topic}`)),
    unsubscribe: (topic: string) => (subscriptions.splice(subscriptions.indexOf(topic), 1), log.push(`unsubscribe ${topic}`)),
  };
  const engine = new Engine({
    hardware: { perform: async () => {}, hold: async () => {}, release: async () => {} },
    defaultDeviceId: 'sim-1',
    output,
    ...(protocolTopics ? { protocolTopics } : {}),
    deviceTravel: (deviceId) => (deviceId === 'sim-1' ? travel : undefined),
  });
  const run = (commands: Command[], runId = 'r-1') => {
    engine.create(runId, { protocol: { schemaVersion: 1, metadata: { name: 'lab' }, commands } as ProtocolDocument });
    engine.act(runId, { type: 'play' });
  };
  return { engine, events, statuses, published, subscriptions, log, run, last: () => statuses.at(-1)! };
}

describe('lab commands', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2026-12-04T10:00:00.000Z') }));
  afterEach(() => vi.useRealTimers());

  describe('a timed pause', () => {
    it('resumes the run by itself after timeoutSeconds, saying when in pause.resumesAt', async () => {
      const { run, last } = setup();
      run([
        { type: 'pause', params: { message: 'Let it settle', timeoutSeconds: 30 } },
        { type: 'comment', params: { message: 'after' } },
      ]);
      expect(last()).toMatchObject({ status: 'paused', pause: { source: 'protocol', message: 'Let it settle', resumesAt: '2026-12-04T10:00:30.000Z' } });
      await vi.advanceTimersByTimeAsync(29_000);
      expect(last().status).toBe('paused');
      await vi.advanceTimersByTimeAsync(1_000);
      expect(last()).toMatchObject({ status: 'succeeded', progress: { completed: 2, total: 2 } });
    });

    it('is held by a user pause on top, and goes on counting from where it was when that is resumed', async () => {
      const { engine, run, last, events } = setup();
      run([
        { type: 'pause', params: { timeoutSeconds: 30 } },
        { type: 'pause', params: { message: 'second' } },
      ]);
      await vi.advanceTimersByTimeAsync(10_000);
      engine.act('r-1', { type: 'pause', by: 'ana' });
      expect(last()).toMatchObject({ status: 'paused', pause: { source: 'protocol', resumesAt: null } });
      expect(last().pause!.reasons.map((r) => r.source)).toEqual(['protocol', 'user']);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(last().current).toMatchObject({ index: 0 });
      // Resume ends the protocol's pause early (as it always did): the run goes on at once.
      engine.act('r-1', { type: 'resume' });
      expect(events.filter((e) => e.type === 'command.succeeded').map((e) => (e as { index: number }).index)).toEqual([0]);
      expect(last()).toMatchObject({ status: 'paused', current: { index: 1 }, pause: { message: 'second' } });
    });
  });

  describe('publish', () => {
    it('publishes text as it is and JSON as its text, and goes on at once', () => {
      const { run, published, last } = setup();
      run([
        { type: 'publish', params: { topic: 'lab/reader/request', payload: { plate: 'P1', read: 'A450' } } },
        { type: 'publish', params: { topic: 'lab/log', payload: 'started', retain: true } },
      ]);
      expect(published).toEqual([
        { topic: 'lab/reader/request', payload: '{"plate":"P1","read":"A450"}', retain: false },
        { topic: 'lab/log', payload: 'started', retain: true },
      ]);
      expect(last().status).toBe('succeeded');
    });

    it('refuses at create a protocol that publishes or waits outside the namespace, above all on labrun’s own topics', () => {
      const { engine, events, published } = setup();
      const attempt = (runId: string, command: Command) => {
        engine.create(runId, { protocol: { schemaVersion: 1, metadata: { name: 'x' }, commands: [command] } });
        return events.filter((e) => e.runId === runId);
      };
      expect(attempt('a', { type: 'publish', params: { topic: 'run/other/actions', payload: 'stop' } })).toMatchObject([
        { type: 'run.rejected', seq: 0, code: 'invalid-create', message: expect.stringContaining("command 1 (publish) names run/other/actions, one of labrun's own topics") },
      ]);
      expect(attempt('b', { type: 'publish', params: { topic: 'hw/sim-1/requests', payload: '{}' } })[0]).toMatchObject({ type: 'run.rejected', message: expect.stringContaining('lab/#') });
      expect(attempt('c', { type: 'wait-for', params: { topic: 'engine/+/status' } })[0]).toMatchObject({ type: 'run.rejected' });
      expect(attempt('d', { type: 'publish', params: { topic: 'factory/line1', payload: 'x' } })[0]).toMatchObject({
        type: 'run.rejected',
        message: expect.stringContaining('outside the topics protocols may use here: lab/#'),
      });
      expect(attempt('e', { type: 'wait-for', params: { topic: 'lab/#' } })[0]).toMatchObject({ type: 'run.created' });
      expect(published).toEqual([]);
    });

    it('follows LABRUN_PROTOCOL_TOPICS, and never lets it open labrun’s own topics', () => {
      const { engine, events } = setup(['factory/#', '#']);
      engine.create('a', { protocol: { schemaVersion: 1, metadata: { name: 'x' }, commands: [{ type: 'publish', params: { topic: 'factory/line1', payload: 'x' } }] } });
      engine.create('b', { protocol: { schemaVersion: 1, metadata: { name: 'x' }, commands: [{ type: 'publish', params: { topic: 'run/a/actions', payload: 'stop' } }] } });
      expect(events.map((e) => [e.runId, e.type])).toEqual([
        ['a', 'run.created'],
        ['b', 'run.rejected'],
      ]);
    });
  });

  describe('wait-for', () => {
    const waitThenComment: Command[] = [
      { type: 'publish', params: { topic: 'lab/reader/request', payload: { plate: 'P1' } } },
      { type: 'wait-for', params: { topic: 'lab/reader/result', field: 'status', equals: 'done', timeoutSeconds: 60 } },
      { type: 'comment', params: { message: 'read' } },
    ];

    it('waits paused (source external) for a matching message, which completes it as its result; others are ignored', async () => {
      const { engine, run, last, events, log } = setup();
      run(waitThenComment);
      expect(log).toEqual(['subscribe lab/reader/result']);
      expect(last()).toMatchObject({
        status: 'paused',
        current: { index: 1, type: 'wait-for' },
        pause: { source: 'external', message: 'waiting for a message on lab/reader/result with status = "done"', resumesAt: '2026-12-04T10:01:00.000Z' },
        allowedActions: ['play', 'pause', 'resume', 'stop'],
      });
      engine.external('lab/reader/result', '{"status":"busy"}', false);
      engine.external('lab/reader/result', 'not json', false);
      engine.external('lab/other', '{"status":"done"}', false);
      expect(last().status).toBe('paused');
      engine.external('lab/reader/result', '{"status":"done","od":[0.12,0.5]}', false);
      expect(events.find((e) => e.type === 'command.succeeded' && e.index === 1)).toMatchObject({ result: { topic: 'lab/reader/result', payload: { status: 'done', od: [0.12, 0.5] } } });
      expect(last()).toMatchObject({ status: 'succeeded', progress: { completed: 3, total: 3 } });
      await Promise.resolve(); // the subscription goes once the step that ended the wait is done
      expect(log).toEqual(['subscribe lab/reader/result', 'unsubscribe lab/reader/result']);
    });

    it('counts a retained message from before the wait only when the command says retained: true', () => {
      const plain = setup();
      plain.run([{ type: 'wait-for', params: { topic: 'lab/incubator/ready' } }]);
      plain.engine.external('lab/incubator/ready', 'true', true);
      expect(plain.last().status).toBe('paused');
      const retained = setup();
      retained.run([{ type: 'wait-for', params: { topic: 'lab/incubator/ready', retained: true } }]);
      retained.engine.external('lab/incubator/ready', 'true', true);
      expect(retained.last().status).toBe('succeeded');
    });

    it('times out into recovery (wait-timeout): retry waits again, skip goes on', async () => {
      const { engine, run, last, log } = setup();
      run(waitThenComment);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(last()).toMatchObject({
        status: 'awaiting-recovery',
        error: { code: 'wait-timeout', commandIndex: 1, message: 'nothing matched on lab/reader/result within 60 s: retry to wait again, or skip' },
        pause: { source: 'error' },
      });
      expect(log).toEqual(['subscribe lab/reader/result', 'unsubscribe lab/reader/result']);
      engine.act('r-1', { type: 'retry' });
      expect(last()).toMatchObject({ status: 'paused', pause: { source: 'external', resumesAt: '2026-12-04T10:02:00.000Z' } });
      expect(log.at(-1)).toBe('subscribe lab/reader/result');
      await vi.advanceTimersByTimeAsync(60_000);
      engine.act('r-1', { type: 'skip' });
      expect(last()).toMatchObject({ status: 'succeeded' });
    });

    it('is held by a user pause on top; an operator’s resume overrides the wait', async () => {
      const { engine, run, last } = setup();
      run(waitThenComment);
      engine.act('r-1', { type: 'pause', by: 'ana' });
      await vi.advanceTimersByTimeAsync(120_000); // held: no timeout
      expect(last()).toMatchObject({ status: 'paused', pause: { source: 'external', resumesAt: null } });
      // The message comes while the user holds the run: the wait is done, the run stays paused by the user.
      engine.external('lab/reader/result', '{"status":"done"}', false);
      expect(last()).toMatchObject({ status: 'paused', current: null, pause: { source: 'user', by: 'ana' } });
      engine.act('r-1', { type: 'resume' });
      expect(last().status).toBe('succeeded');

      const other = setup();
      other.run(waitThenComment);
      other.engine.act('r-1', { type: 'resume', by: 'ana' });
      expect(other.last()).toMatchObject({ status: 'succeeded' });
    });

    it('waits again after a restart', () => {
      const first = setup();
      first.run(waitThenComment);
      const again = setup();
      again.engine.restore([first.events.filter((e) => e.seq > 0)]);
      expect(again.last()).toMatchObject({ status: 'paused', pause: { source: 'external' } });
      expect(again.log).toEqual(['subscribe lab/reader/result']);
      again.engine.external('lab/reader/result', '{"status":"done"}', false);
      expect(again.last().status).toBe('succeeded');
    });

    it('shares one broker subscription between runs waiting on the same topic, and between waits one after the other', async () => {
      const { engine, run, log } = setup();
      run([{ type: 'wait-for', params: { topic: 'lab/door' } }], 'a');
      run(
        [
          { type: 'wait-for', params: { topic: 'lab/door', equals: 'open' } },
          { type: 'wait-for', params: { topic: 'lab/door', equals: 'closed' } },
        ],
        'b',
      );
      expect(log).toEqual(['subscribe lab/door']);
      engine.act('a', { type: 'stop' });
      await Promise.resolve();
      expect(log).toEqual(['subscribe lab/door']);
      engine.external('lab/door', '"open"', false);
      await Promise.resolve();
      expect(engine.get('b')!.current).toMatchObject({ index: 1 });
      expect(log).toEqual(['subscribe lab/door']);
      engine.external('lab/door', '"closed"', false);
      await Promise.resolve();
      expect(engine.get('b')!.status).toBe('succeeded');
      expect(log).toEqual(['subscribe lab/door', 'unsubscribe lab/door']);
    });
  });

  describe("a device's travel", () => {
    const travel = { min: { x: -1, y: -1, z: -1 }, max: { x: 299, y: 299, z: 99 } };
    const protocol = (x: number) => ({ schemaVersion: 1, metadata: { name: 'lab' }, commands: [{ type: 'home' }, { type: 'move', params: { x } }] }) as ProtocolDocument;

    it('refuses at create a run whose moves leave the travel of its device, and creates nothing', () => {
      const { engine, events } = setup(undefined, travel);
      engine.create('far', { protocol: protocol(300) });
      expect(events).toEqual([
        expect.objectContaining({
          type: 'run.rejected',
          code: 'invalid-create',
          message: 'cannot create run far: command 2 (move) goes to x=300, outside the travel of device sim-1: x from -1 to 299 mm',
        }),
      ]);
      expect(engine.get('far')).toBeUndefined();
      engine.create('near', { protocol: protocol(299) });
      expect(engine.get('near')!.status).toBe('idle');
    });

    it('creates it when the device has not said what its travel is (its hardware state is not in yet, or has none)', () => {
      const { engine } = setup();
      engine.create('far', { protocol: protocol(300) });
      expect(engine.get('far')!.status).toBe('idle');
      engine.create('other', { protocol: protocol(300), deviceId: 'sim-2' });
      expect(engine.get('other')!.status).toBe('idle');
    });
  });
});
