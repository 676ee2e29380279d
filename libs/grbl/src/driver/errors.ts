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

/** GRBL refused a line of a G-code block (error:N): which line it was. The lines before it ran; none after it was sent. */
export class GcodeLineRefused extends GrblError {
  constructor(
    /** 1 for the block's first line. */
    readonly lineNumber: number,
    line: string,
    grblCode: number,
  ) {
    super(line, grblCode);
    this.message = `GRBL refused line ${lineNumber} of the G-code block, ${quote(line)}: error:${grblCode} ${describeError(grblCode).message}`;
    this.name = 'GcodeLineRefused';
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

/**
 * GRBL has done everything it was sent (Idle, planner and receive buffer empty, report after report) and still
 * one line has no answer: an `ok` or `error:N` was lost on the serial line. GRBL answers strictly in order, so the
 * lost answer may have belonged to this line or to one before it (whose promise took this line's answer).
 */
export class GrblLostReply extends Error {
  readonly code = 'lost-reply';
  constructor(
    readonly line: string,
    idleMs: number,
  ) {
    super(
      `GRBL did not answer ${quote(line)} although it has been idle with nothing left to do for ${(idleMs / 1000).toFixed(1)} s: ` +
        'an answer was lost on the serial line (check the cable and the port); the machine is where its status report says',
    );
    this.name = 'GrblLostReply';
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
