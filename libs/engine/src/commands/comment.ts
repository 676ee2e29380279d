// `comment`: a note in the run's history; done as soon as it starts.
import type { CommandModule } from './types.js';

export const comment: CommandModule<'comment'> = {
  type: 'comment',
  kind: 'instant',
  start: () => ({ kind: 'done' }),
  onStop: 'fail',
  onPause: 'freeze',
  onResume: 'continue',
  describe: (command, style) => (style === 'terse' ? `comment "${command.params.message}"` : `Comment: “${command.params.message}”`),
};
