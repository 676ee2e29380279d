// The gcode command's module, and what step() does with it: a device request with the lines, held by a user's
// pause, aborted by a stop, its failure (a refused line) into error recovery.
import type { Command, HardwareState, ProtocolDocument } from '@labrun/contracts';
import { describe, expect, it } from 'vitest';
import { iso } from '../fixtures.spec-helpers.js';
import { step } from '../step.js';
import { describeCommand } from './index.js';
import { stepDriver } from './drive.spec-helpers.js';

const block: Command = { type: 'gcode', params: { lines: ['G91', 'G1 Z-2 F300', 'G90'] } };
const protocol: ProtocolDocument = { schemaVersion: 1, metadata: { name: 'gcode' }, commands: [block, { type: 'comment', params: { message: 'after' } }] };
const state: HardwareState = { connected: true, machine: 'Idle', position: { x: 1, y: 2, z: 3 }, machinePosition: { x: -298, y: -297, z: -96 }, homed: true, door: 'closed', alarm: null, at: iso(5) };

const { at, playing, answer } = stepDriver(protocol, 'g-1');

describe('gcode', () => {
  it('reads "G-code: 3 lines", tersely "gcode (3 lines)"', () => {
    expect(describeCommand(block)).toBe('G-code: 3 lines');
    expect(describeCommand(block, 'terse')).toBe('gcode (3 lines)');
    expect(describeCommand({ type: 'gcode', params: { lines: ['M5'] } }, 'terse')).toBe('gcode (1 line)');
  });

  it('sends its lines to the device and succeeds with where the machine ended up', () => {
    const { state: s, request } = playing();
    expect(request).toMatchObject({ kind: 'perform', deviceId: 'sim-1', request: { op: 'gcode', params: { lines: ['G91', 'G1 Z-2 F300', 'G90'] } } });
    const done = answer(s, request.id, { ok: true, data: state });
    expect(done.events[0]).toMatchObject({ type: 'command.succeeded', index: 0, result: { position: { x: 1, y: 2, z: 3 }, machinePosition: { x: -298, y: -297, z: -96 } } });
  });

  it('is motion: a user pause holds the device, a stop aborts the request', () => {
    const { state: s, request } = playing();
    const paused = step(s, { type: 'action', action: { type: 'pause' }, actionId: 'a-2', at: at() });
    expect(paused.state.status).toBe('pausing');
    expect(paused.effects).toEqual([expect.objectContaining({ kind: 'hold', deviceId: 'sim-1' })]);
    const stopped = step(s, { type: 'action', action: { type: 'stop' }, actionId: 'a-3', at: at() });
    expect(stopped.effects).toEqual([{ kind: 'abort', id: request.id }]);
    expect(answer(stopped.state, request.id, { ok: false, error: { code: 'aborted', message: 'motion stopped' } }).events[0]).toMatchObject({ type: 'command.failed', code: 'stopped' });
  });

  it('goes to error recovery when GRBL refuses a line, naming it', () => {
    const { state: s, request } = playing();
    const message = 'GRBL refused line 2 of the G-code block, "G1 Z-2 F300": error:22 …';
    const failed = answer(s, request.id, { ok: false, error: { code: 'grbl-error', message } });
    expect(failed.events[0]).toMatchObject({ type: 'command.failed', index: 0, code: 'grbl-error', message, recovery: 'wait' });
    expect(failed.state.status).toBe('awaiting-recovery');
  });
});
