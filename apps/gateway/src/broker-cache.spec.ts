// Unit tests of the gateway's cache: what it keeps from each topic, and what it refuses to keep.
import { describe, expect, it } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { BrokerCache } from './broker-cache.js';
import { statusDocument as statusOf } from '@labrun/testkit';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const deleted = Buffer.alloc(0);

const hwState: HardwareState = {
  connected: true,
  machine: 'Idle',
  position: { x: 0, y: 0, z: 0 },
  homed: false,
  door: 'closed',
  alarm: null,
  at: '2026-11-24T10:00:01.250Z',
};

describe('BrokerCache', () => {
  it('keeps the latest status of each run and lists them oldest first', () => {
    const cache = new BrokerCache();
    cache.receive('run/r-2/status', bytes(statusOf('r-2', { createdAt: '2026-11-24T11:00:00.000Z' })));
    cache.receive('run/r-1/status', bytes(statusOf('r-1')));
    cache.receive('run/r-1/status', bytes(statusOf('r-1', { status: 'running', seq: 3 })));
    expect(cache.run('r-1')).toMatchObject({ status: 'running', seq: 3 });
    expect(cache.listRuns().map((s) => s.runId)).toEqual(['r-1', 'r-2']);
  });

  it('forgets a run whose retained status was deleted (an empty payload)', () => {
    const cache = new BrokerCache();
    cache.receive('run/r-1/status', bytes(statusOf('r-1')));
    expect(cache.receive('run/r-1/status', deleted)).toBeNull();
    expect(cache.run('r-1')).toBeUndefined();
    expect(cache.listRuns()).toEqual([]);
  });

  it.each([
    ['a status that is not a status document', 'run/r-1/status', bytes({ runId: 'r-1', status: 'flying' }), 'not a status document'],
    ['a status document for another run', 'run/r-1/status', bytes(statusOf('r-9')), 'the status document is for run r-9'],
    ['bytes that are not JSON', 'run/r-1/status', bytes('{"runId":'), 'not valid JSON'],
    ['an online flag that is not a boolean', 'engine/e-1/online', bytes('"yes"'), 'expected true or false'],
    ['a hardware state with a bad machine state', 'hw/sim-1/state', bytes({ ...hwState, machine: 'Flying' }), 'not a hardware state'],
  ])('ignores %s, saying why, and keeps what it had', (_what, topic, payload, reason) => {
    const cache = new BrokerCache();
    cache.receive('run/r-1/status', bytes(statusOf('r-1')));
    expect(cache.receive(topic, payload)?.reason).toContain(reason);
    expect(cache.run('r-1')).toEqual(statusOf('r-1'));
    expect(cache.health(true)).toEqual({ broker: true, engines: {}, devices: {} });
  });

  it('reports engines and devices as their retained flags and state say', () => {
    const cache = new BrokerCache();
    cache.receive('engine/engine-1/online', bytes(true));
    cache.receive('engine/engine-2/online', bytes(false));
    cache.receive('hw/sim-1/online', bytes(true));
    cache.receive('hw/sim-1/state', bytes(hwState));
    cache.receive('hw/sim-2/state', bytes({ ...hwState, machine: 'Alarm', alarm: { code: 1, message: 'Hard limit' } }));
    expect(cache.health(false)).toEqual({
      broker: false,
      engines: { 'engine-1': true, 'engine-2': false },
      devices: { 'sim-1': { online: true, state: hwState }, 'sim-2': { online: false, state: expect.objectContaining({ machine: 'Alarm' }) } },
    });
  });

  it('forgets an engine or device whose retained messages were deleted', () => {
    const cache = new BrokerCache();
    cache.receive('engine/engine-1/online', bytes(true));
    cache.receive('hw/sim-1/online', bytes(true));
    cache.receive('hw/sim-1/state', bytes(hwState));
    cache.receive('engine/engine-1/online', deleted);
    cache.receive('hw/sim-1/state', deleted);
    expect(cache.health(true)).toEqual({ broker: true, engines: {}, devices: { 'sim-1': { online: true, state: null } } });
    cache.receive('hw/sim-1/online', deleted);
    expect(cache.health(true).devices).toEqual({});
  });
});

describe('BrokerCache, for the live views', () => {
  const commands = (runId: string, seq = 1) => ({
    runId,
    seq,
    commands: [{ index: 0, command: { type: 'home' }, status: 'queued', startedAt: null, completedAt: null, error: null, result: null, attempts: [] }],
  });

  it('keeps the latest commands document of each run, and forgets it with the run', () => {
    const cache = new BrokerCache();
    cache.receive('run/r-1/status', bytes(statusOf('r-1')));
    cache.receive('run/r-1/commands', bytes(commands('r-1', 1)));
    cache.receive('run/r-1/commands', bytes(commands('r-1', 2)));
    expect(cache.commands('r-1')?.seq).toBe(2);
    cache.receive('run/r-1/status', deleted);
    expect(cache.commands('r-1')).toBeUndefined();
  });

  it('tells its followers of statuses, commands, events, removals and health changes, until they stop following', () => {
    const cache = new BrokerCache();
    const seen: string[] = [];
    const stop = cache.follow((update) => seen.push(update.kind === 'health' ? 'health' : `${update.kind} ${update.runId}`));
    cache.receive('run/r-1/status', bytes(statusOf('r-1')));
    cache.receive('run/r-1/commands', bytes(commands('r-1')));
    cache.receive('run/r-1/events', bytes({ runId: 'r-1', seq: 2, at: '2026-11-24T10:00:01.000Z', type: 'command.started', index: 0, commandType: 'home' }));
    cache.receive('hw/sim-1/state', bytes(hwState));
    cache.receive('engine/engine-1/online', bytes(true));
    cache.receive('run/r-1/status', deleted);
    cache.brokerChanged();
    stop();
    cache.receive('run/r-2/status', bytes(statusOf('r-2')));
    expect(seen).toEqual(['status r-1', 'commands r-1', 'event r-1', 'health', 'health', 'run-removed r-1', 'health']);
  });

  it.each([
    ['an event that is not a run event', 'run/r-1/events', bytes({ type: 'run.exploded' }), 'not a run event'],
    ['an event for another run', 'run/r-1/events', bytes({ runId: 'r-2', seq: 1, at: '2026-11-24T10:00:01.000Z', type: 'command.succeeded', index: 0 }), 'the event is for run r-2'],
    ['a commands document that is not one', 'run/r-1/commands', bytes({ runId: 'r-1' }), 'not a commands document'],
  ])('tells nobody of %s, and says why', (_what, topic, payload, reason) => {
    const cache = new BrokerCache();
    const seen: unknown[] = [];
    cache.follow((update) => seen.push(update));
    expect(cache.receive(topic, payload)?.reason).toContain(reason);
    expect(seen).toEqual([]);
  });

  it('lists the engines that say they are online', () => {
    const cache = new BrokerCache();
    cache.receive('engine/engine-1/online', bytes(true));
    cache.receive('engine/engine-2/online', bytes(false));
    expect(cache.onlineEngines()).toEqual(['engine-1']);
  });
});
