// `home`: the homing cycle (GRBL `$H`): the machine finds its origin.
import { positionResult, type CommandModule } from './types.js';

export const home: CommandModule<'home'> = {
  type: 'home',
  kind: 'motion',
  start: () => ({ kind: 'perform', request: { op: 'home' } }),
  onStop: 'abort',
  onPause: 'hold',
  onResume: 'continue',
  result: positionResult,
  describe: (_command, style) => (style === 'terse' ? 'home' : 'Home'),
};
