// `move`: a straight move to deck coordinates at a feed (GRBL `G53 G1`): to x/y/z, to a labware well
// (`plate1/A1`, rising to the protocol's travel height first when it has one), or by offsets (`relative`).
import type { DeviceMove } from '@labrun/contracts';
import { positionResult, type CommandModule, type ResolvedMoveCommand } from './types.js';

/**
 * What the device is sent: the target the run resolved (absolute, rounded to 0.001 mm). A move read without its
 * protocol can only be an absolute one; a well or an offset means nothing outside the protocol that declares it.
 */
export function deviceMove(command: ResolvedMoveCommand): DeviceMove {
  if (command.target) return command.target;
  const { to, relative, x, y, z, feed } = command.params;
  if (to !== undefined || relative) throw new Error(`a move ${to !== undefined ? `to ${to}` : 'by offsets'} needs its protocol to resolve it (resolveMoves)`);
  return Object.fromEntries(Object.entries({ x, y, z, feed }).filter(([, v]) => v !== undefined));
}

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v}`;

export const move: CommandModule<'move'> = {
  type: 'move',
  kind: 'motion',
  start: (command) => ({ kind: 'perform', request: { op: 'move', params: deviceMove(command) } }),
  onStop: 'abort',
  onPause: 'hold',
  onResume: 'continue',
  result: positionResult,
  describe(command, style) {
    const { x, y, z, feed, to, relative } = command.params;
    const axes = Object.entries({ x, y, z }).flatMap(([axis, v]) => (v === undefined ? [] : [[axis, v] as const]));
    const show = (v: number) => (relative ? signed(v) : String(v));
    if (style === 'terse') {
      const where = to !== undefined ? [to] : relative ? ['by'] : [];
      return ['move', ...where, ...axes.map(([axis, v]) => `${axis}=${show(v)}`), ...(feed === undefined ? [] : [`F${feed}`])].join(' ');
    }
    const at = feed !== undefined ? ` at ${feed} mm/min` : '';
    if (to !== undefined) return `Move to ${to}${z !== undefined ? `, Z ${z}` : ''}${at}`;
    return `Move ${relative ? 'by' : 'to'} ${axes.map(([axis, v]) => `${axis.toUpperCase()} ${show(v)}`).join(', ')}${at}`;
  },
};
