// `move`: a straight move to deck coordinates at a feed (GRBL `G53 G1`).
import { positionResult, type CommandModule } from './types.js';

export const move: CommandModule<'move'> = {
  type: 'move',
  kind: 'motion',
  start: (command) => ({ kind: 'perform', request: { op: 'move', params: command.params } }),
  onStop: 'abort',
  onPause: 'hold',
  onResume: 'continue',
  result: positionResult,
  describe(command, style) {
    const { x, y, z, feed } = command.params;
    const axes = Object.entries({ x, y, z }).flatMap(([axis, v]) => (v === undefined ? [] : [[axis, v] as const]));
    if (style === 'terse') return ['move', ...axes.map(([axis, v]) => `${axis}=${v}`), ...(feed === undefined ? [] : [`F${feed}`])].join(' ');
    return `Move to ${axes.map(([axis, v]) => `${axis.toUpperCase()} ${v}`).join(', ')}${feed !== undefined ? ` at ${feed} mm/min` : ''}`;
  },
};
