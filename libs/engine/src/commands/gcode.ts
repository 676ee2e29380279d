// `gcode`: a short block of raw G-code for what has no command of its own, sent to the device line by line and
// done when every line is (the motion too). Checked line by line at create (@labrun/contracts, gcode-lines.ts).
import { gcodeAccessories } from '@labrun/contracts';
import { positionResult, type CommandModule } from './types.js';

const lines = (n: number) => `${n} line${n === 1 ? '' : 's'}`;

export const gcode: CommandModule<'gcode'> = {
  type: 'gcode',
  kind: 'motion',
  start: (command) => ({ kind: 'perform', request: { op: 'gcode', params: command.params } }),
  onStop: 'abort',
  onPause: 'hold',
  onResume: 'continue',
  // G91 makes its moves relative, and its M-codes may dispense: sent twice, it does not end where once would.
  afterRestart: 'ask',
  result: positionResult,
  accessories: (command) => gcodeAccessories(command.params.lines),
  describe: (command, style) => (style === 'terse' ? `gcode (${lines(command.params.lines.length)})` : `G-code: ${lines(command.params.lines.length)}`),
};
