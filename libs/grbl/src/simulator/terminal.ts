// Bare serial terminals for tests and scripts: one on the simulator's port, which records every line the
// controller prints so a test can say "after 500 ms the last status report says Hold:0", and one on a serial
// device opened by path (such as the pty `exposeOnPty` creates).
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import tty from 'node:tty';

export class SerialTerminal {
  /** Everything received so far, as sent (lines end with \r\n). */
  text = '';

  constructor(private readonly port: Duplex) {
    port.on('data', (chunk: Buffer) => (this.text += chunk.toString('latin1')));
  }

  /** Complete lines received so far, without their \r\n. The banner's leading empty line is one of them. */
  get lines(): string[] {
    const parts = this.text.split('\r\n');
    parts.pop(); // the unfinished rest
    return parts;
  }

  /** Send text (ASCII) or raw bytes, such as the real-time commands 0x18 and 0x84. */
  send(data: string | number[]): void {
    this.port.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data));
  }

  /** Lines received after the first `from` lines (use `terminal.lines.length` as a bookmark). */
  since(from: number): string[] {
    return this.lines.slice(from);
  }

  /** The status reports received (`<…>` lines). */
  get reports(): string[] {
    return this.lines.filter((line) => line.startsWith('<'));
  }

  /** The last status report's state field: `Idle`, `Hold:0`… */
  get lastState(): string | undefined {
    return this.reports.at(-1)?.slice(1).split(/[|>]/)[0];
  }

  /** `ok` and `error:N` answers received. */
  get answers(): string[] {
    return this.lines.filter((line) => line === 'ok' || line.startsWith('error:'));
  }
}

/** Open a serial device (a tty) by path, as a sender would, to read what arrives and write commands. */
export function openSerialDevice(devicePath: string) {
  const fd = fs.openSync(devicePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const stream = new tty.ReadStream(fd); // readable and writable; non-blocking, so it closes cleanly
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  return {
    /** Everything received so far. */
    text: () => text,
    send: (data: string) => stream.write(data),
    /** Wait (in real time) until what was received matches `pattern`. */
    async waitFor(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`no ${pattern} from ${devicePath} within ${timeoutMs} ms; received ${JSON.stringify(text)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () => stream.destroy(),
  };
}
