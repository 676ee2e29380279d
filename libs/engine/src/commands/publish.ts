// `publish`: a message for another system (a plate reader, a LIMS), under the engine's protocol namespace.
import type { CommandModule } from './types.js';

export const publish: CommandModule<'publish'> = {
  type: 'publish',
  kind: 'instant',
  start: (command) => {
    const { topic, payload, retain } = command.params;
    return { kind: 'publish', topic, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), retain: retain ?? false };
  },
  onStop: 'fail',
  onPause: 'freeze',
  onResume: 'continue',
  describe(command, style) {
    const { topic, payload } = command.params;
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const short = text.length > 40 ? `${text.slice(0, 39)}…` : text;
    return style === 'terse' ? `publish ${topic} ${short}` : `Publish to ${topic}: ${short}`;
  },
};
