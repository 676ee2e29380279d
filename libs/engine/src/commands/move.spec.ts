// The move command's module: what it sends the device (the target the run resolved: absolute, rounded, with a
// travel height for labware), and how it reads.
import type { Command, ProtocolDocument } from '@labrun/contracts';
import { describe, expect, it } from 'vitest';
import { createState } from '../apply.js';
import { iso } from '../fixtures.spec-helpers.js';
import { commandAt } from '../state.js';
import { describeCommand } from './index.js';
import { move } from './move.js';

const protocol: ProtocolDocument = {
  schemaVersion: 1,
  metadata: { name: 'labware' },
  labware: { plate1: { origin: { x: 5.2, y: 10, z: 15 }, rows: 8, columns: 12, spacing: { x: 9.09, y: 9 } } },
  travelHeight: 40,
  commands: [{ type: 'home' }, { type: 'move', params: { to: 'plate1/A3', feed: 3000 } }, { type: 'move', params: { x: 5, z: -2.5, relative: true } }, { type: 'move', params: { x: 10, y: 20 } }],
};
const run = createState({ type: 'run.created', runId: 'm-1', seq: 1, at: iso(1), deviceId: 'sim-1', protocol });

describe('move', () => {
  it('sends a move to a well as its absolute position, rounded to 0.001 mm, with the travel height', () => {
    expect(move.start(commandAt(run, 1) as never)).toEqual({ kind: 'perform', request: { op: 'move', params: { x: 23.38, y: 10, z: 15, feed: 3000, travelZ: 40 } } });
  });

  it('sends a relative move as the absolute target it offsets to', () => {
    expect(move.start(commandAt(run, 2) as never)).toEqual({ kind: 'perform', request: { op: 'move', params: { x: 28.38, z: 12.5 } } });
  });

  it('sends an absolute move as it is, with or without its protocol', () => {
    expect(move.start(commandAt(run, 3) as never)).toEqual({ kind: 'perform', request: { op: 'move', params: { x: 10, y: 20 } } });
    expect(move.start({ type: 'move', params: { x: 10, y: 20 } })).toEqual({ kind: 'perform', request: { op: 'move', params: { x: 10, y: 20 } } });
  });

  it('refuses to send a well or an offset that no protocol resolved', () => {
    expect(() => move.start({ type: 'move', params: { to: 'plate1/A1' } })).toThrow('a move to plate1/A1 needs its protocol to resolve it');
  });

  it.each<[Command, string, string]>([
    [{ type: 'move', params: { to: 'plate1/A1', feed: 3000 } }, 'Move to plate1/A1 at 3000 mm/min', 'move plate1/A1 F3000'],
    [{ type: 'move', params: { to: 'plate1/H12', z: 2 } }, 'Move to plate1/H12, Z 2', 'move plate1/H12 z=2'],
    [{ type: 'move', params: { x: 5, relative: true } }, 'Move by X +5', 'move by x=+5'],
    [{ type: 'move', params: { x: -1.5, z: 2, relative: true, feed: 600 } }, 'Move by X -1.5, Z +2 at 600 mm/min', 'move by x=-1.5 z=+2 F600'],
    [{ type: 'move', params: { x: 10, y: 20, feed: 600 } }, 'Move to X 10, Y 20 at 600 mm/min', 'move x=10 y=20 F600'],
  ])('reads %j as "%s", tersely "%s"', (command, sentence, terse) => {
    expect(describeCommand(command)).toBe(sentence);
    expect(describeCommand(command, 'terse')).toBe(terse);
  });
});
