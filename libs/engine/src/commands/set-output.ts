// `set-output`: switch a device output named in lab words (a pump, a valve) to a level from 0 (off) to 1. The
// device carries it out (GRBL spindle PWM or coolant) and answers; the run switches it off again when it ends.
import type { CommandModule } from './types.js';

export const setOutput: CommandModule<'set-output'> = {
  type: 'set-output',
  kind: 'motion',
  start: (command) => ({ kind: 'perform', request: { op: 'set-output', output: command.params.output, value: command.params.value } }),
  // Like motion: a stop interrupts the request on the device, a pause holds the device (GRBL takes the line after
  // cycle start); neither changes an output already set.
  onStop: 'abort',
  onPause: 'hold',
  onResume: 'continue',
  output: (command) => command.params,
  describe(command, style) {
    const { output, value } = command.params;
    if (style === 'terse') return `set-output ${output}=${value}`;
    return `Set ${output} to ${percent(value)}`;
  },
};

/** 0.5 → "50 %", 0 → "0 % (off)", 0.333 → "33.3 %". */
function percent(value: number): string {
  const text = `${Math.round(value * 1000) / 10} %`;
  return value === 0 ? `${text} (off)` : text;
}
