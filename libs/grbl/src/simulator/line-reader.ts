// How GRBL's main loop turns received characters into lines (protocol.c, protocol_main_loop): a line ends at
// `\n` or `\r`; spaces and control characters are dropped, `(comments)` and `; comments` are skipped, lower case
// becomes upper case, and a line longer than 80 characters (LINE_BUFFER_SIZE) is refused with error:11.
// "G1 x10 (go right)\r\n" therefore becomes the line "G1X10" followed by an empty line — each answered `ok`.

const LINE_BUFFER_SIZE = 80;

export type ReadLine = { line: string; overflow: boolean };

export class LineReader {
  private chars: string[] = [];
  private overflow = false;
  private parenComment = false;
  private semicolonComment = false;

  /** Feed one character; returns the finished line at end of line, otherwise null. */
  push(byte: number): ReadLine | null {
    const c = String.fromCharCode(byte);
    if (c === '\n' || c === '\r') {
      const done = { line: this.chars.join(''), overflow: this.overflow };
      this.clear();
      return done;
    }
    if (this.overflow || this.parenComment || this.semicolonComment) {
      // Inside a comment or past the end of the buffer everything but the end of line is thrown away;
      // a ')' ends a parenthesis comment.
      if (c === ')' && this.parenComment) this.parenComment = false;
      return null;
    }
    if (byte <= 0x20) return null; // white space and control characters
    if (c === '/') return null; // block delete: not supported, the character is ignored
    if (c === '(') this.parenComment = true;
    else if (c === ';') this.semicolonComment = true;
    else if (this.chars.length >= LINE_BUFFER_SIZE - 1) this.overflow = true;
    else this.chars.push(c >= 'a' && c <= 'z' ? c.toUpperCase() : c);
    return null;
  }

  /** Forget a partly received line (a soft reset). */
  clear(): void {
    this.chars = [];
    this.overflow = false;
    this.parenComment = false;
    this.semicolonComment = false;
  }
}
