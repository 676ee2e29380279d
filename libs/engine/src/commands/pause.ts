// `pause`: the protocol stops and shows its message until someone resumes the run.
import { seconds, type CommandModule } from './types.js';

export const pause: CommandModule<'pause'> = {
  type: 'pause',
  kind: 'wait',
  start: (command) => ({ kind: 'pause', message: command.params?.message ?? null, timeoutSeconds: command.params?.timeoutSeconds ?? null }),
  onStop: 'fail',
  onPause: 'freeze',
  onResume: 'complete',
  describe(command, style) {
    const message = command.params?.message;
    const timeout = command.params?.timeoutSeconds;
    if (style === 'terse') return `pause${timeout ? ` ${seconds(timeout)}` : ''}${message ? ` "${message}"` : ''}`;
    return `Pause${timeout ? ` (resumes after ${seconds(timeout)})` : ''}${message ? `: “${message}”` : ''}`;
  },
};
