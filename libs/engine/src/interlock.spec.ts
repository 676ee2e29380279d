import { describe, expect, it } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { InterlockWatch } from './interlock.js';

const state = (overrides: Partial<HardwareState> = {}): HardwareState => ({
  connected: true,
  machine: 'Idle',
  position: { x: 0, y: 0, z: 0 },
  homed: true,
  door: 'closed',
  alarm: null,
  at: '2026-11-24T10:00:00.000Z',
  ...overrides,
});

describe('InterlockWatch', () => {
  it('reports a door opening and closing once each, naming the cause', () => {
    const watch = new InterlockWatch();
    expect(watch.update('sim-1', { online: true, state: state() })).toBeNull();
    expect(watch.update('sim-1', { state: state({ door: 'open', machine: 'Door' }) })).toEqual({ active: true, message: 'door open' });
    expect(watch.update('sim-1', { state: state({ door: 'open', machine: 'Door' }) })).toBeNull();
    expect(watch.update('sim-1', { state: state() })).toEqual({ active: false, message: 'door closed: check the machine, then resume' });
  });

  it('treats a disconnected controller and an offline service as interlocks', () => {
    const watch = new InterlockWatch();
    expect(watch.update('sim-1', { state: state({ connected: false }) })).toEqual({ active: true, message: 'controller sim-1 is disconnected' });
    expect(watch.update('sim-1', { state: state() })).toEqual({ active: false, message: 'controller sim-1 reconnected: check the machine, then resume' });
    expect(watch.update('sim-1', { online: false })).toEqual({ active: true, message: 'the hardware service for sim-1 is offline' });
    expect(watch.update('sim-1', { online: true })).toEqual({ active: false, message: 'the hardware service for sim-1 is back online: check the machine, then resume' });
  });

  it('does not block runs for a device it has not heard from', () => {
    expect(new InterlockWatch().update('sim-9', {})).toBeNull();
  });
});
