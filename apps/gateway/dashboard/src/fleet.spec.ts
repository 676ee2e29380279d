// Unit tests of the devices panel's lines and the run filters.
import { describe, expect, it } from 'vitest';
import { statusDocument } from '@labrun/testkit';
import type { HardwareState } from '@labrun/contracts';
import { deviceIds, deviceLine, runMatches, type FleetDevice } from './fleet.js';

const at = '2026-11-24T10:00:00.000Z';
const state: HardwareState = { connected: true, machine: 'Hold', position: { x: 0, y: 0, z: 0 }, homed: true, door: 'closed', alarm: null, at };
const device = (overrides: Partial<FleetDevice> = {}): FleetDevice => ({ deviceId: 'd-1', online: true, state, engineId: 'e-1', standby: [], current: null, ...overrides });

describe('a device’s line in the devices panel', () => {
  it('names the engine serving it, its machine state and its paused run with the pause message', () => {
    const paused = statusDocument('r-1', {
      name: 'Plate check',
      status: 'paused',
      pause: { source: 'protocol', message: 'Check the samples', since: at, by: null, reasons: [] } as never,
    });
    expect(deviceLine(device({ current: paused }))).toEqual({
      engine: 'engine e-1',
      served: true,
      machine: 'Hold',
      run: { runId: 'r-1', name: 'Plate check', status: 'paused' },
      note: 'Check the samples',
    });
  });

  it('says when no engine serves it, who stands by, and that its hardware has not reported', () => {
    expect(deviceLine(device({ engineId: null, standby: ['e-2'], state: null }))).toMatchObject({
      engine: 'no engine serves it (standing by: e-2)',
      served: false,
      machine: 'no state',
      run: null,
      note: null,
    });
  });

  it('shows the error of a run awaiting recovery, and nothing for a running one', () => {
    const failed = statusDocument('r-2', { status: 'awaiting-recovery', error: { code: 'alarm', message: 'ALARM:1 hard limit', commandIndex: 0 } as never });
    expect(deviceLine(device({ current: failed })).note).toBe('ALARM:1 hard limit');
    expect(deviceLine(device({ current: statusDocument('r-3', { status: 'running' }) })).note).toBeNull();
  });
});

describe('the run filters', () => {
  const runs = [statusDocument('a', { deviceId: 'd-1', status: 'paused' }), statusDocument('b', { deviceId: 'd-2', status: 'succeeded' }), statusDocument('c', { deviceId: 'd-2', status: 'running' })];
  const kept = (deviceId: string, status: Parameters<typeof runMatches>[1]['status']) => runs.filter((r) => runMatches(r, { deviceId, status })).map((r) => r.runId);

  it('keeps every run without a filter, and those of one device, one status, or both', () => {
    expect(kept('', '')).toEqual(['a', 'b', 'c']);
    expect(kept('d-2', '')).toEqual(['b', 'c']);
    expect(kept('', 'paused')).toEqual(['a']);
    expect(kept('d-2', 'succeeded')).toEqual(['b']);
    expect(kept('d-1', 'succeeded')).toEqual([]);
  });

  it('keeps the runs not finished, or those waiting for someone', () => {
    expect(kept('', 'unfinished')).toEqual(['a', 'c']);
    expect(kept('', 'waiting')).toEqual(['a']);
  });

  it('offers every device known from the devices and the runs', () => {
    expect(deviceIds([device({ deviceId: 'd-9' })], runs)).toEqual(['d-1', 'd-2', 'd-9']);
  });
});
