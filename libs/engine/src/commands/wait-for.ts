// `wait-for`: the run waits (paused, source external) for another instrument's message, and the matching
// message is the command's result. An operator's resume overrides the wait; a timeout fails it into recovery.
import { seconds, type CommandModule } from './types.js';

const condition = (field: string | undefined, equals: unknown) =>
  field === undefined ? (equals === undefined ? '' : ` = ${JSON.stringify(equals)}`) : ` with ${field} = ${JSON.stringify(equals ?? null)}`;

export const waitFor: CommandModule<'wait-for'> = {
  type: 'wait-for',
  kind: 'wait',
  start: (command) => {
    const { topic, field, equals, timeoutSeconds, message, retained } = command.params;
    return {
      kind: 'wait',
      topic,
      field: field ?? null,
      equals,
      message: message ?? `waiting for a message on ${topic}${condition(field, equals)}`,
      timeoutSeconds: timeoutSeconds ?? null,
      retained: retained ?? false,
    };
  },
  onStop: 'fail',
  onPause: 'freeze',
  onResume: 'complete',
  describe(command, style) {
    const { topic, field, equals, timeoutSeconds } = command.params;
    const until = timeoutSeconds ? ` (gives up after ${seconds(timeoutSeconds)})` : '';
    return style === 'terse' ? `wait-for ${topic}${condition(field, equals)}${until}` : `Wait for ${topic}${condition(field, equals)}${until}`;
  },
};
