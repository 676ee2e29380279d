import { describe, expect, it } from 'vitest';
import { planMoves, resolveMoves, travelProblems } from './labware.js';
import { CreateRun } from './create.js';
import { HardwareRequest } from './hardware.js';
import { validate } from './payload.js';
import { ProtocolDocument } from './protocol.js';

const plate1 = { origin: { x: 10, y: 20, z: 5 }, rows: 8, columns: 12, spacing: { x: 9, y: 9 } };
const doc = (commands: unknown[], extra: Record<string, unknown> = {}) => ({ schemaVersion: 1, metadata: { name: 'Labware' }, labware: { plate1 }, commands, ...extra });
const refusal = (input: unknown) => {
  const parsed = ProtocolDocument.safeParse(input);
  expect(parsed.success).toBe(false);
  return parsed.error!.issues.map((i) => i.message);
};

describe('labware positions', () => {
  it('resolves a well to its grid position, at the origin height or the z the move gives', () => {
    const protocol = ProtocolDocument.parse(
      doc([
        { type: 'move', params: { to: 'plate1/A1' } },
        { type: 'move', params: { to: 'plate1/B3', z: 2, feed: 3000 } },
      ]),
    );
    expect(resolveMoves(protocol)).toEqual([
      { x: 10, y: 20, z: 5 },
      { x: 28, y: 29, z: 2, feed: 3000 },
    ]);
  });

  it('rounds every target to 0.001 mm, as GRBL reads G-code', () => {
    const protocol = ProtocolDocument.parse(
      doc([{ type: 'move', params: { to: 'plate1/A3' } }], { labware: { plate1: { ...plate1, origin: { x: 5.2, y: 0.1, z: 0 }, spacing: { x: 9.09, y: 0.1 } } } }),
    );
    // 5.2 + 2 × 9.09 is 23.380000000000003 in floating point.
    expect(resolveMoves(protocol)[0]).toEqual({ x: 23.38, y: 0.1, z: 0 });
    expect(planMoves({ commands: [{ type: 'move', params: { x: -0.0001, y: 1.23456 } }] }).moves[0]).toEqual({ x: 0, y: 1.235 });
  });

  it('resolves relative moves from home (0,0,0) and from the move before, axis by axis', () => {
    const plan = planMoves(
      doc([
        { type: 'home' },
        { type: 'move', params: { x: 5, relative: true } },
        { type: 'move', params: { to: 'plate1/A1' } },
        { type: 'move', params: { z: -1.5, relative: true } },
        { type: 'move', params: { y: 0.3, relative: true } },
      ]) as never,
    );
    expect(plan.problems).toEqual([]);
    expect(plan.moves.slice(1)).toEqual([{ x: 5 }, { x: 10, y: 20, z: 5 }, { z: 3.5 }, { y: 20.3 }]);
  });

  it('adds the travel height to moves to labware only', () => {
    const plan = planMoves(
      doc(
        [
          { type: 'move', params: { x: 1, y: 1, z: 1 } },
          { type: 'move', params: { to: 'plate1/H12' } },
        ],
        { travelHeight: 40 },
      ) as never,
    );
    expect(plan.moves).toEqual([
      { x: 1, y: 1, z: 1 },
      { x: 109, y: 83, z: 5, travelZ: 40 },
    ]);
  });

  it('never moves down to the travel height: a machine already higher crosses at its own height', () => {
    const plan = planMoves(
      doc(
        [
          { type: 'move', params: { x: 1, y: 1, z: 60 } },
          { type: 'move', params: { to: 'plate1/A1' } },
          { type: 'move', params: { to: 'plate1/A2' } },
        ],
        { travelHeight: 40 },
      ) as never,
    );
    expect(plan.moves.map((m) => m?.travelZ)).toEqual([undefined, 60, 40]);
  });

  it('keeps existing absolute moves as they were', () => {
    const protocol = ProtocolDocument.parse({ schemaVersion: 1, metadata: { name: 'Old' }, commands: [{ type: 'home' }, { type: 'move', params: { x: 10, y: 20, z: 5, feed: 3000 } }] });
    expect(resolveMoves(protocol)).toEqual([undefined, { x: 10, y: 20, z: 5, feed: 3000 }]);
  });

  it('refuses an unknown labware name, naming the command and the labware there is', () => {
    expect(refusal(doc([{ type: 'home' }, { type: 'move', params: { to: 'plate2/A1' } }]))).toEqual([
      'command 2 (move) names plate2/A1, but this protocol declares no labware "plate2": its labware is plate1',
    ]);
    expect(refusal(doc([{ type: 'move', params: { to: 'plate1/A1' } }], { labware: undefined }))).toEqual([
      'command 1 (move) names plate1/A1, but this protocol declares no labware "plate1": it declares no labware ("labware": { "plate1": { … } })',
    ]);
  });

  it('refuses a well outside the grid, listing the wells there are', () => {
    expect(refusal(doc([{ type: 'move', params: { to: 'plate1/I13' } }]))).toEqual(["command 1 (move) names plate1/I13, outside plate1's 8 × 12 grid: its wells are A1 to H12"]);
    expect(refusal(doc([{ type: 'move', params: { to: 'plate1/A13' } }]))).toEqual(["command 1 (move) names plate1/A13, outside plate1's 8 × 12 grid: its wells are A1 to H12"]);
  });

  it('refuses a bad well in a create request, as the CLI, the gateway and the engine read one, pointing at the move', () => {
    const checked = validate(CreateRun, { protocol: doc([{ type: 'home' }, { type: 'move', params: { to: 'plate1/I13' } }]) });
    expect(checked).toEqual({ ok: false, error: "✖ command 2 (move) names plate1/I13, outside plate1's 8 × 12 grid: its wells are A1 to H12\n  → at protocol.commands[1].params.to" });
  });

  it('refuses a malformed well name', () => {
    for (const well of ['a1', 'A', 'A0', 'A01', '1A', '']) {
      expect(refusal(doc([{ type: 'move', params: { to: `plate1/${well}` } }]))).toEqual([`command 1 (move) names plate1/${well}: "${well}" is not a well name like A1; plate1 has wells A1 to H12`]);
    }
    expect(refusal(doc([{ type: 'move', params: { to: 'A1' } }]))).toEqual(['to must name a well of the protocol\'s labware, like "plate1/A1"']);
  });

  it('refuses a relative move before any home or absolute move, and after raw G-code or a probe on that axis', () => {
    const message = 'command 1 (move) is relative: a relative move needs a known position: home or move first';
    expect(refusal(doc([{ type: 'move', params: { x: 5, relative: true } }]))).toEqual([message]);
    expect(
      refusal(
        doc([
          { type: 'move', params: { x: 1 } },
          { type: 'move', params: { y: 5, relative: true } },
        ]),
      ),
    ).toEqual([message.replace('command 1', 'command 2')]);
    expect(refusal(doc([{ type: 'home' }, { type: 'gcode', params: { lines: ['G1 X5 F100'] } }, { type: 'move', params: { x: 5, relative: true } }]))).toEqual([
      message.replace('command 1', 'command 3'),
    ]);
    expect(refusal(doc([{ type: 'home' }, { type: 'probe', params: { z: -20, feed: 100 } }, { type: 'move', params: { z: 2, relative: true } }]))).toEqual([message.replace('command 1', 'command 3')]);
    expect(ProtocolDocument.safeParse(doc([{ type: 'home' }, { type: 'probe', params: { z: -20, feed: 100 } }, { type: 'move', params: { x: 2, relative: true } }])).success).toBe(true);
  });

  it('refuses a target beyond the machine travel a move may reach', () => {
    const far = { ...plate1, origin: { x: 99_990, y: 0, z: 0 } };
    expect(refusal(doc([{ type: 'move', params: { to: 'plate1/A3' } }], { labware: { plate1: far } }))).toEqual(['command 1 (move) goes to x=100008, beyond the ±100000 mm a move may reach']);
    expect(
      refusal(
        doc([
          { type: 'move', params: { x: 99_999 } },
          { type: 'move', params: { x: 5, relative: true } },
        ]),
      ),
    ).toEqual(['command 2 (move) goes to x=100004, beyond the ±100000 mm a move may reach']);
  });

  it('refuses moves and labware that say something impossible', () => {
    expect(refusal(doc([{ type: 'move', params: { to: 'plate1/A1', x: 3 } }]))).toEqual(['a move to a well takes no x or y: the well says where (z, when given, is the height there)']);
    expect(refusal(doc([{ type: 'move', params: { to: 'plate1/A1', relative: true } }]))).toEqual(['a move to a well is not relative: give either "to" or "relative" offsets']);
    expect(refusal(doc([{ type: 'home' }], { labware: { 'plate 1': plate1 } }))).toEqual([
      'labware name "plate 1": a labware name must be 1-64 characters of A-Z, a-z, 0-9, _ and -, such as "plate1"',
    ]);
    expect(refusal(doc([{ type: 'home' }], { labware: { plate1: { ...plate1, rows: 27 } } }))).toEqual(['rows must be at most 26 (A to Z)']);
    expect(refusal(doc([{ type: 'home' }], { labware: { plate1: { ...plate1, columns: 100 } } }))).toEqual(['columns must be at most 99']);
    expect(refusal(doc([{ type: 'home' }], { labware: { plate1: { ...plate1, spacing: { x: 0, y: 9 } } } }))).toEqual(['spacing.x must be greater than 0 mm and at most 100000']);
  });

  it('takes a travel height in hardware move requests, and no well names', () => {
    expect(HardwareRequest.safeParse({ id: 'q', replyTo: 'r', op: 'move', params: { x: 1, y: 2, z: 3, travelZ: 40 } }).success).toBe(true);
    expect(HardwareRequest.safeParse({ id: 'q', replyTo: 'r', op: 'move', params: { to: 'plate1/A1' } }).success).toBe(false);
  });
});

describe("a device's travel", () => {
  const travel = { min: { x: -1, y: -1, z: -1 }, max: { x: 299, y: 299, z: 99 } };
  const problems = (commands: unknown[], extra: Record<string, unknown> = {}) =>
    travelProblems(ProtocolDocument.parse(doc(commands, extra)), travel, 'sim-1').map((p) => [p.index, p.field, p.message]);

  it('lets every move and probe within it through, its edges included', () => {
    expect(problems([{ type: 'home' }, { type: 'move', params: { x: 299, y: -1, z: 99 } }, { type: 'move', params: { to: 'plate1/H12' } }, { type: 'probe', params: { z: -1, feed: 100 } }])).toEqual(
      [],
    );
  });

  it('names the command, where it goes and the range of the axis it leaves', () => {
    expect(problems([{ type: 'home' }, { type: 'move', params: { x: 300 } }])).toEqual([[1, 'x', 'command 2 (move) goes to x=300, outside the travel of device sim-1: x from -1 to 299 mm']]);
    expect(problems([{ type: 'probe', params: { z: -20, feed: 100 } }])).toEqual([[0, 'z', 'command 1 (probe) probes toward z=-20, outside the travel of device sim-1: z from -1 to 99 mm']]);
  });

  it('checks wells, relative moves and the travel height where they resolve to', () => {
    const far = { origin: { x: 250, y: 20, z: 5 }, rows: 8, columns: 12, spacing: { x: 9, y: 9 } };
    expect(
      problems(
        [
          { type: 'move', params: { to: 'far/A5' } },
          { type: 'move', params: { to: 'far/A7' } },
        ],
        { labware: { far } },
      ),
    ).toEqual([[1, 'to', 'command 2 (move) goes to x=304 (far/A7), outside the travel of device sim-1: x from -1 to 299 mm']]);
    expect(problems([{ type: 'home' }, { type: 'move', params: { y: 250 } }, { type: 'move', params: { y: 50, relative: true } }])).toEqual([
      [2, 'y', 'command 3 (move) goes to y=300, outside the travel of device sim-1: y from -1 to 299 mm'],
    ]);
    expect(problems([{ type: 'move', params: { to: 'plate1/A1' } }], { travelHeight: 120 })).toEqual([
      [0, 'to', 'command 1 (move) rises to the travel height z=120, outside the travel of device sim-1: z from -1 to 99 mm'],
    ]);
  });
});
