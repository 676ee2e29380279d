// The probe command's module, and what step() does with it: a device request toward the point, a result that is
// where the probe touched, and a probe that touched nothing waiting in error recovery until skipped.
import type { Command, HardwareState, ProtocolDocument } from '@labrun/contracts';
import { describe, expect, it } from 'vitest';
import { iso } from '../fixtures.spec-helpers.js';
import { step } from '../step.js';
import { describeCommand } from './index.js';
import { stepDriver } from './drive.spec-helpers.js';
import { probeResult } from './probe.js';

const toward: Command = { type: 'probe', params: { z: -30, feed: 100 } };
const protocol: ProtocolDocument = { schemaVersion: 1, metadata: { name: 'probe' }, commands: [toward, { type: 'move', params: { z: 50, feed: 3000 } }] };
/** Came to rest 0.3 mm past where the probe touched, as a machine decelerating after contact does. */
const rested: HardwareState = {
  connected: true,
  machine: 'Idle',
  position: { x: 10, y: 10, z: 19.7 },
  machinePosition: { x: -289, y: -289, z: -79.3 },
  homed: true,
  door: 'closed',
  alarm: null,
  lastProbe: { position: { x: 10, y: 10, z: 20 }, machinePosition: { x: -289, y: -289, z: -79 }, at: iso(4) },
  at: iso(5),
};

const { at, perform, playing, answer } = stepDriver(protocol, 'p-1');

describe('probe', () => {
  it('reads "Probe toward Z -30 at 100 mm/min", tersely "probe z=-30 F100"', () => {
    expect(describeCommand(toward)).toBe('Probe toward Z -30 at 100 mm/min');
    expect(describeCommand(toward, 'terse')).toBe('probe z=-30 F100');
    expect(describeCommand({ type: 'probe', params: { x: 5, z: 2.5, feed: 50 } })).toBe('Probe toward X 5, Z 2.5 at 50 mm/min');
  });

  it('sends the target to the device, and its result is where the probe touched, not where the machine stopped', () => {
    const { state: s, request } = playing();
    expect(request).toMatchObject({ kind: 'perform', request: { op: 'probe', params: { z: -30, feed: 100 } } });
    const done = answer(s, request.id, { ok: true, data: rested });
    expect(done.events[0]).toEqual(expect.objectContaining({ type: 'command.succeeded', index: 0, result: { position: { x: 10, y: 10, z: 20 }, machinePosition: { x: -289, y: -289, z: -79 } } }));
  });

  it('falls back to where the machine stopped for a device that reports no probe contact', () => {
    const { lastProbe: _, ...withoutProbe } = rested;
    expect(probeResult(withoutProbe)).toEqual({ position: { x: 10, y: 10, z: 19.7 }, machinePosition: { x: -289, y: -289, z: -79.3 } });
  });

  it('waits in error recovery when the probe touched nothing, and skip goes on with the next command', () => {
    const { state: s, request } = playing();
    const missed = answer(s, request.id, { ok: false, error: { code: 'probe-no-contact', message: 'the probe touched nothing on its way to Z -30' } });
    expect(missed.events[0]).toMatchObject({ type: 'command.failed', code: 'probe-no-contact', recovery: 'wait' });
    expect(missed.state.status).toBe('awaiting-recovery');
    const skipped = step(missed.state, { type: 'action', action: { type: 'skip' }, actionId: 'a-2', at: at() });
    expect(skipped.events.map((e) => e.type)).toEqual(['action.accepted', 'command.skipped', 'command.started']);
    expect(perform(skipped.effects)).toMatchObject({ request: { op: 'move', params: { z: 50, feed: 3000 } } });
  });
});
