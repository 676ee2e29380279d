// Positions the lab names: labware declared in a protocol (a grid of wells), moves to "plate1/A1", relative moves
// and a safe travel height, resolved to absolute deck coordinates before the run starts. One walk over the
// commands both checks a document (the schema refuses it at create, naming the command) and resolves it (the
// engine sends what it resolves), so the two never disagree.
import { MOVE_LIMITS, roundToController } from './move-limits.js';

/** A labware grid: well A1 at `origin`, columns along +x (`spacing.x` apart), rows along +y (`spacing.y` apart). */
export interface LabwareGrid {
  origin: { x: number; y: number; z: number };
  rows: number;
  columns: number;
  spacing: { x: number; y: number };
}

/** Where a move sends the machine, in deck coordinates (mm): absolute, rounded to 0.001 mm; a missing axis stays. */
export interface DeviceMove {
  x?: number;
  y?: number;
  z?: number;
  feed?: number;
  /** Rise to this deck height first, move across, then descend (a move to labware in a protocol with `travelHeight`). */
  travelZ?: number;
}

/** What the walk reads of a protocol: structural, so it serves the schema (before its type exists) and the engine. */
interface MovePlanInput {
  labware?: Record<string, LabwareGrid> | undefined;
  travelHeight?: number | undefined;
  commands: readonly { type: string; params?: unknown }[];
}

interface MoveInput {
  x?: number | undefined;
  y?: number | undefined;
  z?: number | undefined;
  to?: string | undefined;
  relative?: boolean | undefined;
  feed?: number | undefined;
}

export interface MovePlanProblem {
  index: number;
  /** Where in the command the problem is (`to`, `x`), for the schema's issue path. */
  field: string;
  message: string;
}

export interface MovePlan {
  /** Each command's device move, by command index; undefined for commands that are not moves. */
  moves: (DeviceMove | undefined)[];
  problems: MovePlanProblem[];
}

const AXES = ['x', 'y', 'z'] as const;
type Axis = (typeof AXES)[number];
/** Where the machine is known to be after the commands so far: undefined for an axis nothing has fixed yet. */
type Known = Record<Axis, number | undefined>;

const rowName = (row: number) => String.fromCharCode(65 + row);
/** "A1 to H12": the wells a grid has, for messages. */
export const wellRange = (grid: LabwareGrid) => `A1 to ${rowName(grid.rows - 1)}${grid.columns}`;

/** A well name split into its row (A = 0) and column (1 = 0), or null when it is not a well name like A1 or H12. */
export function parseWell(well: string): { row: number; column: number } | null {
  const match = /^([A-Z])([1-9][0-9]?)$/.exec(well);
  return match ? { row: match[1]!.charCodeAt(0) - 65, column: Number(match[2]) - 1 } : null;
}

/** Where a well of a grid is, on the deck (x, y; z is the origin's). */
export function wellPosition(grid: LabwareGrid, well: { row: number; column: number }): { x: number; y: number; z: number } {
  return { x: grid.origin.x + well.column * grid.spacing.x, y: grid.origin.y + well.row * grid.spacing.y, z: grid.origin.z };
}

/**
 * Check and resolve every move of a protocol. A `to` move goes to a well (z: the one it gives, else the labware
 * origin's); a relative move offsets the position the commands before it left the machine at — known after `home`
 * (0,0,0) and absolute moves, unknown again after a `probe` (on the axes it probes) or raw `gcode` (which may move anything).
 */
export function planMoves(protocol: MovePlanInput): MovePlan {
  const labware = protocol.labware ?? {};
  const names = Object.keys(labware);
  const moves: (DeviceMove | undefined)[] = [];
  const problems: MovePlanProblem[] = [];
  let known: Known = { x: undefined, y: undefined, z: undefined };
  protocol.commands.forEach((command, index) => {
    // The schema runs this check even when some command failed its own (zod goes on past a bad field): skip what is not a command.
    if (typeof command !== 'object' || command === null) return;
    const what = `command ${index + 1} (${command.type})`;
    if (command.type === 'home') known = { x: 0, y: 0, z: 0 };
    if (command.type === 'gcode') known = { x: undefined, y: undefined, z: undefined };
    if (command.type === 'probe') {
      const params = (command.params ?? {}) as MoveInput;
      for (const axis of AXES) if (params[axis] !== undefined) known = { ...known, [axis]: undefined };
    }
    if (command.type !== 'move') return;
    const params = (command.params ?? {}) as MoveInput;
    const problem = (field: string, message: string) => problems.push({ index, field, message: `${what} ${message}` });
    let target: Partial<Record<Axis, number>> = {};
    let travelZ: number | undefined;
    if (typeof params.to === 'string') {
      // A `to` that is not `name/well` at all is refused by the move's own schema; saying more would repeat it.
      if (!params.to.includes('/')) return;
      const [name = '', well = ''] = params.to.split('/');
      const grid = labware[name];
      if (!grid)
        return problem(
          'to',
          `names ${params.to}, but this protocol declares no labware "${name}": ${names.length ? `its labware is ${names.join(', ')}` : 'it declares no labware ("labware": { "plate1": { … } })'}`,
        );
      const parsed = parseWell(well);
      if (!parsed) return problem('to', `names ${params.to}: "${well}" is not a well name like A1; ${name} has wells ${wellRange(grid)}`);
      if (parsed.row >= grid.rows || parsed.column >= grid.columns) return problem('to', `names ${params.to}, outside ${name}'s ${grid.rows} × ${grid.columns} grid: its wells are ${wellRange(grid)}`);
      const at = wellPosition(grid, parsed);
      target = { x: at.x, y: at.y, z: params.z ?? at.z };
      // Rise to the travel height, but never down to it: a machine already higher stays at its height to cross.
      if (protocol.travelHeight !== undefined) travelZ = known.z !== undefined ? Math.max(protocol.travelHeight, known.z) : protocol.travelHeight;
    } else if (params.relative) {
      const missing = AXES.filter((axis) => params[axis] !== undefined && known[axis] === undefined);
      if (missing.length > 0) return problem(missing[0]!, 'is relative: a relative move needs a known position: home or move first');
      for (const axis of AXES) if (params[axis] !== undefined) target[axis] = known[axis]! + params[axis];
    } else {
      for (const axis of AXES) if (params[axis] !== undefined) target[axis] = params[axis];
    }
    const move: DeviceMove = {};
    for (const axis of AXES) {
      const value = target[axis];
      if (value === undefined) continue;
      const rounded = roundToController(value);
      if (Math.abs(rounded) > MOVE_LIMITS.coordinateMm)
        return problem(params.to !== undefined ? 'to' : axis, `goes to ${axis}=${rounded}, beyond the ±${MOVE_LIMITS.coordinateMm} mm a move may reach`);
      move[axis] = rounded;
    }
    if (params.feed !== undefined) move.feed = params.feed;
    if (travelZ !== undefined) move.travelZ = roundToController(travelZ);
    moves[index] = move;
    for (const axis of AXES) if (move[axis] !== undefined) known[axis] = move[axis];
  });
  return { moves, problems };
}

/**
 * Each command's device move, for a protocol that passed the schema (which refuses every problem planMoves finds).
 * Cached by document: a run's protocol is resolved once, however often its moves start.
 */
export function resolveMoves(protocol: MovePlanInput): readonly (DeviceMove | undefined)[] {
  const cached = resolved.get(protocol);
  if (cached) return cached;
  const plan = planMoves(protocol);
  if (plan.problems.length > 0) throw new Error(`cannot resolve the protocol's moves: ${plan.problems.map((p) => p.message).join('; ')}`);
  resolved.set(protocol, plan.moves);
  return plan.moves;
}
const resolved = new WeakMap<object, (DeviceMove | undefined)[]>();

/** The box a device can reach, in deck coordinates (the hardware state's `travel`). */
export interface TravelBox {
  min: { x: number; y: number; z: number };
  max: { x: number; y: number; z: number };
}

/**
 * Every move (its travel height too) and probe of a protocol that passed the schema and leaves a device's travel,
 * named by command, axis, where it goes and the range the device has. The moves are resolveMoves' (cached: the
 * engine sends the same ones). Raw `gcode` is not checked: what it does depends on modes it may set itself.
 */
export function travelProblems(protocol: MovePlanInput, travel: TravelBox, deviceId: string): MovePlanProblem[] {
  const moves = resolveMoves(protocol);
  const problems: MovePlanProblem[] = [];
  const range = (axis: Axis) => `${axis} from ${travel.min[axis]} to ${travel.max[axis]} mm`;
  // Within a thousandth of a millimetre of an end is at the end: the controller's resolution.
  const outside = (axis: Axis, value: number) => value < travel.min[axis] - 0.0005 || value > travel.max[axis] + 0.0005;
  protocol.commands.forEach((command, index) => {
    if (typeof command !== 'object' || command === null) return;
    const what = `command ${index + 1} (${command.type})`;
    const targets: [field: string, axis: Axis, value: number, how: string][] = [];
    if (command.type === 'move') {
      const move = moves[index];
      const to = (command.params as MoveInput | undefined)?.to;
      if (!move) return;
      for (const axis of AXES) if (move[axis] !== undefined) targets.push([to !== undefined ? 'to' : axis, axis, move[axis], `goes to ${axis}=${move[axis]}${to !== undefined ? ` (${to})` : ''}`]);
      if (move.travelZ !== undefined) targets.push(['to', 'z', move.travelZ, `rises to the travel height z=${move.travelZ}`]);
    } else if (command.type === 'probe') {
      const params = (command.params ?? {}) as MoveInput;
      for (const axis of AXES) if (typeof params[axis] === 'number') targets.push([axis, axis, params[axis], `probes toward ${axis}=${params[axis]}`]);
    } else return;
    for (const [field, axis, value, how] of targets) {
      if (!outside(axis, value)) continue;
      problems.push({ index, field, message: `${what} ${how}, outside the travel of device ${deviceId}: ${range(axis)}` });
      return; // one problem per command is enough to fix it
    }
  });
  return problems;
}
