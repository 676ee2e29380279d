// `delay`: wait a number of seconds; the countdown freezes while the run is paused.
import { seconds, type CommandModule } from './types.js';

export const delay: CommandModule<'delay'> = {
  type: 'delay',
  kind: 'wait',
  start: (command) => ({ kind: 'countdown', seconds: command.params.seconds, message: command.params.message ?? null }),
  onStop: 'fail',
  onPause: 'freeze',
  onResume: 'continue',
  describe(command, style) {
    const { message } = command.params;
    if (style === 'terse') return `delay ${seconds(command.params.seconds)}${message ? ` "${message}"` : ''}`;
    return `Delay ${seconds(command.params.seconds)}${message ? `: “${message}”` : ''}`;
  },
};
