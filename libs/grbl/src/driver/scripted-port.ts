// A stand-in for a serial line that a test drives by hand: it records every byte the driver writes, and pushes
// whatever the test says the controller sent. Tests of code that talks to GRBL use it where a real controller,
// or the simulator, would make a case hard to stage (garbage, a reset at an exact moment, a line cut in two).
import { Duplex } from 'node:stream';

export class ScriptedPort extends Duplex {
  /** Every chunk the driver wrote, in order. */
  readonly chunks: Buffer[] = [];
  /** Called for each chunk the driver writes (to answer it, count it, …). */
  onWrite: ((chunk: Buffer) => void) | null = null;

  /** Everything the driver wrote, as text (Latin-1, so every byte is one character). */
  get written(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** The complete lines the driver wrote, real-time bytes left out. */
  get lines(): string[] {
    const text = this.written.replace(/[?!~\x18\x80-\xff]/g, '');
    return text.split('\n').slice(0, -1);
  }

  /** Send bytes as if the controller had: `port.reply('ok\r\n')`. */
  reply(text: string | Buffer): void {
    this.push(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** The far end goes away (a USB cable pulled). */
  hangUp(): void {
    this.destroy();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.onWrite?.(chunk);
    callback();
  }

  override _read(): void {}
}
