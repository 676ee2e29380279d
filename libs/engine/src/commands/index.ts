// Every command type's module, by type: the one place a command type's behaviour and description live.
// `@labrun/engine/commands` is this file: the CLI and the dashboard (bundled for the browser) import it.
import type { Command, CommandType } from '@labrun/contracts';
import { comment } from './comment.js';
import { delay } from './delay.js';
import { gcode } from './gcode.js';
import { home } from './home.js';
import { move } from './move.js';
import { pause } from './pause.js';
import { publish } from './publish.js';
import { waitFor } from './wait-for.js';
import { setOutput } from './set-output.js';
import { probe } from './probe.js';
import type { CommandModule, CommandOf, DescribeStyle } from './types.js';

export * from './types.js';

const MODULES: { [T in CommandType]: CommandModule<T> } = { home, move, pause, delay, comment, publish, 'wait-for': waitFor, 'set-output': setOutput, gcode, probe };

export function commandModule<T extends CommandType>(type: T): CommandModule<T> {
  return MODULES[type];
}

/** How a command reads to people: "Move to X 10, Y 20 at 600 mm/min" (sentence) or "move x=10 y=20 F600" (terse). */
export function describeCommand(command: Command, style: DescribeStyle = 'sentence'): string {
  const module = MODULES[command.type] as CommandModule<CommandType> | undefined;
  return module ? module.describe(command as CommandOf<CommandType>, style) : String((command as { type: unknown }).type);
}
