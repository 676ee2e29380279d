#!/usr/bin/env node
// labrun-broker: with no arguments, the labrun MQTT broker (serve.ts), configured from the environment;
// `user add|remove|list` manages the users of its auth file (libs/auth/src/user-command.ts).
import { createLogger, runMain } from '@labrun/service';
import { serveBroker } from './serve.js';
import { runUserCommand, USER_USAGE } from '@labrun/auth';

const [command, ...args] = process.argv.slice(2);

if (command === 'user') {
  process.exitCode = await runUserCommand(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
} else if (command !== undefined) {
  const help = command === '--help' || command === '-h';
  (help ? process.stdout : process.stderr).write(
    `${help ? '' : `unknown command ${JSON.stringify(command)}\n`}usage:\n  labrun-broker          run the broker (configured from the environment: see apps/broker/README.md)\n${USER_USAGE.replace(/^usage:\n/, '')}\n`,
  );
  process.exitCode = help ? 0 : 2;
} else {
  const log = createLogger('broker');
  runMain(log, () => serveBroker(log));
}
