// `pause`: the protocol stops and shows its message until someone resumes the run.
import type { CommandModule } from './types.js';

export const pause: CommandModule<'pause'> = {
  type: 'pause',
  kind: 'wait',
  start: (command) => ({ kind: 'pause', message: command.params?.message ?? null }),
  onStop: 'fail',
  onPause: 'freeze',
  onResume: 'complete',
  describe(command, style) {
    const message = command.params?.message;
    if (style === 'terse') return message ? `pause "${message}"` : 'pause';
    return message ? `Pause: “${message}”` : 'Pause';
  },
};
