// The ways a line sent to GRBL can fail, as errors with a `code` a hardware reply can carry and a message a
// person can read.
import { describeError } from './codes.js';

const quote = (line: string) => JSON.stringify(line);

/** GRBL answered the line with `error:N`: it parsed the line, refused it, and executed none of it. */
export class GrblError extends Error {
  readonly code = 'grbl-error';
  readonly grblCode: number;
  constructor(
    readonly line: string,
    grblCode: number,
  ) {
    super(`GRBL refused ${quote(line)}: error:${grblCode} ${describeError(grblCode).message}`);
    this.name = 'GrblError';
    this.grblCode = grblCode;
  }
}

/** GRBL restarted (a soft reset, a power cycle, the USB port's DTR line) before it answered the line. */
export class GrblReset extends Error {
  readonly code = 'reset';
  constructor(readonly line: string) {
    super(`GRBL was reset before it answered ${quote(line)}`);
    this.name = 'GrblReset';
  }
}

/** The serial connection closed (the device went away, or the driver was closed). */
export class GrblDisconnected extends Error {
  readonly code = 'disconnected';
  constructor(message: string) {
    super(message);
    this.name = 'GrblDisconnected';
  }
}

/** GRBL did not answer within the time it should have. */
export class GrblTimeout extends Error {
  readonly code = 'timeout';
  constructor(message: string) {
    super(message);
    this.name = 'GrblTimeout';
  }
}

/** A line of a stream that was never sent, because a line before it failed. */
export class StreamCancelled extends Error {
  readonly code = 'cancelled';
  constructor(
    readonly line: string,
    cause: Error,
  ) {
    super(`${quote(line)} was not sent: ${cause.message}`, { cause });
    this.name = 'StreamCancelled';
  }
}
