#!/usr/bin/env node
// The `labrun` command: run a protocol and follow it, act on runs (pause, resume, stop, …), show their status,
// and manage the users and tokens of the auth file. Exit codes are in exit-codes.ts; every error a user can
// cause is printed as a sentence, never a stack trace.
import { act } from './action-command.js';
import { tokenCommand, userCommand } from './auth-commands.js';
import { brokerSettings } from './broker.js';
import { parseCommandLine, USAGE, type Request } from './command-line.js';
import { CliError, EXIT } from './exit-codes.js';
import { runProtocol } from './run-command.js';
import { listRuns, showStatus } from './status-command.js';
import { typesCommand } from './types-command.js';

async function main(request: Request): Promise<number> {
  if (request.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  switch (request.command) {
    case 'run':
      return runProtocol(request, brokerSettings(request.url));
    case 'action':
      return act(request, brokerSettings(request.url));
    case 'status':
      return showStatus(request, brokerSettings(request.url));
    case 'ls':
      return listRuns(request, brokerSettings(request.url));
    case 'user':
      return userCommand(request.args);
    case 'token':
      return tokenCommand(request.args);
    case 'types':
      return typesCommand(request.args);
  }
}

// A reader that stops reading (`| head -2`) is not an error worth a stack trace: end quietly, as a command killed
// by SIGPIPE would, with nothing more written (the run goes on; only this view of it ends).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.outputClosed);
    process.exit(EXIT.failed);
  });
}

function exit(code: number): void {
  process.exitCode = code;
  // Everything is closed by now; should a handle linger (a paused stdin), do not let it keep the command alive.
  setTimeout(() => process.exit(code), 1000).unref();
}

Promise.resolve()
  .then(() => main(parseCommandLine(process.argv.slice(2))))
  .then(exit, (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`${error.message}\n`);
      exit(error.exitCode);
    } else {
      process.stderr.write(`labrun: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
      exit(EXIT.failed);
    }
  });
