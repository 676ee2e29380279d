// The labrun command's exit codes, so scripts can tell a failed run from a stopped one or an unreachable broker.
import type { RunStatus } from '@labrun/contracts';

export const EXIT = {
  /** The run succeeded, or the command did what it was asked. */
  ok: 0,
  /** The run failed, or the engine rejected the action (or the run is not there). */
  failed: 1,
  /** The run was stopped. */
  stopped: 2,
  /** Bad usage or bad input (a protocol file that is not a valid protocol, a bad run id). */
  usage: 3,
  /** The MQTT broker could not be reached. */
  unreachable: 4,
  /** The broker was there, but no engine answered within 5 s (is an engine running on that broker?). */
  noAnswer: 5,
  /** Interrupted with Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
  /** Whoever read the output stopped reading (`labrun run … | head -2`): 128 + SIGPIPE, as shells report it. */
  outputClosed: 141,
} as const;

/** How a finished run ends the command that followed it. */
export function exitCodeFor(status: RunStatus): number {
  if (status === 'succeeded') return EXIT.ok;
  if (status === 'stopped') return EXIT.stopped;
  return EXIT.failed;
}

/** An error for the user, as they should read it, with the exit code it ends the command with. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
