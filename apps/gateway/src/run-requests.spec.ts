// Unit tests of the gateway's conversation with the engine: an answer is matched to its request, never to
// another client's, and silence becomes a readable "no engine answered".
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@labrun/contracts';
import { statusDocument } from '@labrun/testkit';
import { BrokerCache } from './broker-cache.js';
import { RunRequests } from './run-requests.js';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const at = '2026-11-24T10:00:00.000Z';
const protocol = { schemaVersion: 1 as const, metadata: { name: 'p' }, commands: [{ type: 'home' as const }] };

/** A cache and the requests over it; `engine` plays the engine for each published message. */
function setUp(engine: (cache: BrokerCache, topic: string, payload: any) => void, timeoutMs = 2000) {
  const cache = new BrokerCache();
  const published: [string, any][] = [];
  const requests = new RunRequests(
    cache,
    async (topic, payload) => {
      published.push([topic, JSON.parse(payload)]);
      setImmediate(() => engine(cache, topic, JSON.parse(payload)));
    },
    timeoutMs,
  );
  return { cache, requests, published };
}

const event = (e: Partial<RunEvent> & { type: RunEvent['type'] }) => ({ runId: 'r-1', seq: 0, at, ...e });

describe('RunRequests', () => {
  it('publishes the create and answers with the status the engine publishes for that run only', async () => {
    const { requests, published } = setUp((cache) => {
      cache.receive('run/r-other/status', bytes(statusDocument('r-other')));
      cache.receive('run/r-1/status', bytes(statusDocument('r-1', { name: 'p' })));
    });
    expect(await requests.create('r-1', { protocol })).toEqual({ kind: 'created', status: statusDocument('r-1', { name: 'p' }) });
    expect(published).toEqual([['run/r-1/create', { protocol }]]);
  });

  it('answers a create with the engine’s run.rejected event', async () => {
    const rejected = event({ type: 'run.rejected', code: 'run-exists', message: 'cannot create run r-1: a run with that id already exists' });
    const { requests } = setUp((cache) => cache.receive('run/r-1/events', bytes(rejected)));
    expect(await requests.create('r-1', { protocol })).toEqual({ kind: 'rejected', event: rejected });
  });

  it('answers an action with the engine’s verdict on that action id, not on another client’s action', async () => {
    const other = event({ type: 'action.rejected', actionId: 'someone-else', action: 'resume', code: 'not-paused', message: 'no' });
    const mine = event({ type: 'action.accepted', actionId: 'a-1', action: 'resume', by: 'ana', message: null, mode: null, seq: 4 });
    const { requests, published } = setUp((cache) => {
      cache.receive('run/r-1/events', bytes(other));
      cache.receive('run/r-1/events', bytes(mine));
    });
    expect(await requests.act('r-1', { type: 'resume', id: 'a-1', by: 'ana' })).toEqual({ kind: 'accepted', event: mine });
    expect(published).toEqual([['run/r-1/actions', { type: 'resume', id: 'a-1', by: 'ana' }]]);
  });

  it('says no engine answered, naming the engines that claim to be online, when nothing comes back in time', async () => {
    const { cache, requests } = setUp(() => {}, 50);
    expect(await requests.act('r-1', { type: 'stop', id: 'a-2' })).toEqual({ kind: 'no-answer', message: 'no engine answered stop on run r-1 within 0.05 s (no engine is online)' });
    cache.receive('engine/engine-1/online', Buffer.from('true'));
    cache.receive('engine/engine-2/online', Buffer.from('false'));
    expect(await requests.create('r-2', { protocol })).toEqual({ kind: 'no-answer', message: 'no engine answered the create of run r-2 within 0.05 s (online: engine-1)' });
  });

  it('fails when the message cannot be published', async () => {
    const cache = new BrokerCache();
    const requests = new RunRequests(cache, async () => {
      throw new Error('client disconnecting');
    });
    await expect(requests.act('r-1', { type: 'stop', id: 'a-3' })).rejects.toThrow('client disconnecting');
  });
});
