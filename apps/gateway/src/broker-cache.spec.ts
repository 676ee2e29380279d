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
    const stop = cache.follow((update) => seen.push('runId' in update ? `${update.kind} ${update.runId}` : update.kind));
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

describe('BrokerCache, for the fleet', () => {
  const engineStatus = (engineId: string, overrides: Record<string, unknown> = {}) => ({
    engineId,
    journal: { writable: true, error: null, since: '2026-11-24T09:00:00.000Z' },
    activeRuns: 0,
    maxActiveRuns: 100,
    at: '2026-11-24T09:00:00.000Z',
    ...overrides,
  });
  const running = (runId: string, deviceId: string, overrides: Record<string, unknown> = {}) =>
    statusOf(runId, { deviceId, status: 'running', startedAt: '2026-11-24T10:01:00.000Z', allowedActions: ['pause', 'stop'], ...overrides });

  /** Two engines online, each serving one device; e-2 stands by for d-1. */
  function fleet(): BrokerCache {
    const cache = new BrokerCache();
    cache.receive('engine/e-1/online', bytes(true));
    cache.receive('engine/e-1/status', bytes(engineStatus('e-1', { devices: ['d-1'], standby: [], onlineSince: '2026-11-24T08:00:00.000Z' })));
    cache.receive('engine/e-2/online', bytes(true));
    cache.receive('engine/e-2/status', bytes(engineStatus('e-2', { devices: ['d-2'], standby: [{ deviceId: 'd-1', servedBy: 'e-1' }], onlineSince: '2026-11-24T08:30:00.000Z', activeRuns: 1 })));
    cache.receive('hw/d-1/online', bytes(true));
    cache.receive('hw/d-1/state', bytes(hwState));
    return cache;
  }

  it('lists every engine, with what its status says, and one known only by its flag or only by its status', () => {
    const cache = fleet();
    cache.receive('engine/old/online', bytes(true));
    cache.receive('engine/gone/status', bytes(engineStatus('gone', { devices: ['d-9'] })));
    expect(cache.listEngines().map((e) => [e.engineId, e.online, e.devices])).toEqual([
      ['e-1', true, ['d-1']],
      ['e-2', true, ['d-2']],
      ['gone', false, ['d-9']],
      ['old', true, null],
    ]);
    expect(cache.engine('e-2')).toEqual({
      engineId: 'e-2',
      online: true,
      devices: ['d-2'],
      standby: [{ deviceId: 'd-1', servedBy: 'e-1' }],
      onlineSince: '2026-11-24T08:30:00.000Z',
      journal: { writable: true, error: null, since: '2026-11-24T09:00:00.000Z' },
      activeRuns: 1,
      maxActiveRuns: 100,
      statusAt: '2026-11-24T09:00:00.000Z',
    });
    expect(cache.engine('old')).toMatchObject({ devices: null, standby: [], journal: null, activeRuns: null, statusAt: null });
    expect(cache.engine('nope')).toBeUndefined();
  });

  it('lists every device named anywhere, with its hardware, the engine serving it and those standing by', () => {
    const cache = fleet();
    cache.receive('run/r-3/status', bytes(statusOf('r-3', { deviceId: 'd-3', status: 'succeeded', completedAt: '2026-11-24T10:05:00.000Z' })));
    cache.receive('hw/d-4/state', bytes({ ...hwState, machine: 'Alarm', alarm: { code: 1, message: 'Hard limit' } }));
    const devices = cache.listDevices();
    expect(devices.map((d) => d.deviceId)).toEqual(['d-1', 'd-2', 'd-3', 'd-4']);
    expect(cache.device('d-1')).toEqual({ deviceId: 'd-1', online: true, state: hwState, engineId: 'e-1', standby: ['e-2'], current: null });
    expect(cache.device('d-2')).toMatchObject({ online: false, state: null, engineId: 'e-2', standby: [] });
    expect(cache.device('d-3')).toMatchObject({ engineId: null, current: { runId: 'r-3', status: 'succeeded' } });
    expect(cache.device('d-4')).toMatchObject({ engineId: null, state: { machine: 'Alarm' } });
    expect(cache.device('d-5')).toBeUndefined();
  });

  it('serves a device by no engine once its engine is offline, though its retained status still names it', () => {
    const cache = fleet();
    cache.receive('engine/e-1/online', bytes(false));
    expect(cache.device('d-1')).toMatchObject({ engineId: null, standby: ['e-2'] });
    cache.receive('engine/e-2/status', bytes(engineStatus('e-2', { devices: ['d-2', 'd-1'], standby: [], onlineSince: '2026-11-24T08:30:00.000Z' })));
    expect(cache.device('d-1')).toMatchObject({ engineId: 'e-2', standby: [] });
  });

  it('takes the current run from device/<id>/current, or that run’s newer status when it came first', () => {
    const cache = fleet();
    cache.receive('run/r-1/status', bytes(running('r-1', 'd-1', { seq: 5 })));
    cache.receive('run/r-2/status', bytes(running('r-2', 'd-1', { seq: 2, startedAt: '2026-11-24T09:00:00.000Z' })));
    cache.receive('device/d-1/current', bytes(running('r-1', 'd-1', { seq: 4 })));
    expect(cache.device('d-1')?.current).toMatchObject({ runId: 'r-1', seq: 5 });
    cache.receive('device/d-1/current', bytes(running('r-1', 'd-1', { seq: 6, status: 'paused' })));
    expect(cache.device('d-1')?.current).toMatchObject({ runId: 'r-1', seq: 6, status: 'paused' });
    cache.receive('device/d-1/current', deleted);
    // Without it: the run under way that started first.
    expect(cache.device('d-1')?.current?.runId).toBe('r-2');
  });

  it('without device/<id>/current, makes the current run the one under way, else the first waiting, else the last to finish', () => {
    const cache = new BrokerCache();
    const finished = (runId: string, completedAt: string) => statusOf(runId, { deviceId: 'd-1', status: 'succeeded', startedAt: '2026-11-24T10:00:00.000Z', completedAt });
    cache.receive('run/old/status', bytes(finished('old', '2026-11-24T10:01:00.000Z')));
    cache.receive('run/last/status', bytes(finished('last', '2026-11-24T10:02:00.000Z')));
    expect(cache.device('d-1')?.current?.runId).toBe('last');
    cache.receive('run/later/status', bytes(statusOf('later', { deviceId: 'd-1', createdAt: '2026-11-24T11:00:00.000Z' })));
    cache.receive('run/first/status', bytes(statusOf('first', { deviceId: 'd-1', createdAt: '2026-11-24T10:30:00.000Z' })));
    expect(cache.device('d-1')?.current?.runId).toBe('first');
    cache.receive('run/going/status', bytes(running('going', 'd-1', { createdAt: '2026-11-24T11:30:00.000Z', status: 'paused' })));
    expect(cache.device('d-1')?.current?.runId).toBe('going');
  });

  it('knows a device no online engine serves only when every online engine said which devices it serves', () => {
    const cache = fleet();
    expect(cache.knownUnserved('d-1')).toBeNull();
    expect(cache.knownUnserved('nowhere')).toEqual({ served: ['d-1', 'd-2'] });
    // An engine from before fleets (no devices in its status) might serve it.
    cache.receive('engine/old/online', bytes(true));
    expect(cache.knownUnserved('nowhere')).toBeNull();
    cache.receive('engine/old/online', bytes(false));
    expect(cache.knownUnserved('nowhere')).toEqual({ served: ['d-1', 'd-2'] });
    // No engine online: no engine will answer at all, which is not the same as an unknown device.
    expect(new BrokerCache().knownUnserved('nowhere')).toBeNull();
  });

  it.each([
    ['an engine status that is not one', 'engine/e-1/status', bytes({ engineId: 'e-1', devices: 'd-1' }), 'not an engine status'],
    [
      'an engine status for another engine',
      'engine/e-1/status',
      bytes({ engineId: 'e-9', journal: { writable: true, error: null, since: '2026-11-24T09:00:00.000Z' }, activeRuns: 0, maxActiveRuns: 1, at: '2026-11-24T09:00:00.000Z' }),
      'the engine status is for engine e-9',
    ],
    ['a current run that is not a status document', 'device/d-1/current', bytes({ runId: 'r-1' }), 'not a status document'],
    ['a current run on another device', 'device/d-1/current', bytes(statusOf('r-1', { deviceId: 'd-2' })), 'the current run r-1 is on device d-2'],
    ['a device topic that is not current', 'device/d-1/state', bytes(hwState), 'expected device/<deviceId>/current'],
  ])('ignores %s, saying why, and keeps what it had', (_what, topic, payload, reason) => {
    const cache = fleet();
    const before = cache.listDevices();
    expect(cache.receive(topic, payload)?.reason).toContain(reason);
    expect(cache.listDevices()).toEqual(before);
  });

  it('forgets an engine status or current run whose retained message was deleted, and tells its followers', () => {
    const cache = fleet();
    cache.receive('device/d-2/current', bytes(running('r-1', 'd-2')));
    const seen: string[] = [];
    cache.follow((update) => seen.push(update.kind));
    cache.receive('engine/e-2/status', deleted);
    cache.receive('device/d-2/current', deleted);
    expect(seen).toEqual(['fleet', 'fleet']);
    expect(cache.engine('e-2')).toMatchObject({ online: true, devices: null });
    expect(cache.device('d-2')).toBeUndefined();
  });
});
