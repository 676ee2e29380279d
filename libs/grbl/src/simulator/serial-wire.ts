// The serial cable: a Node Duplex stream whose bytes take the time a real UART takes — 10 bits per byte (start
// bit, 8 data bits, stop bit) at the baud rate, in each direction independently. Bytes the host writes reach the
// controller one at a time; text the controller sends reaches the host the same way. Baud rate 0 means no
// pacing: every byte arrives at once, which is what most tests want.
import { Duplex } from 'node:stream';
import type { Clock } from '@labrun/contracts';
import { Timer } from './timer.js';

/** Bytes the host may have queued for sending before a write waits: a Linux tty's transmit buffer. */
const OS_TX_BUFFER = 4096;

interface Pending {
  byte: number;
  /** When its stop bit has arrived, ms on the clock. */
  due: number;
  /** For bytes from the host: the write to acknowledge once its last byte is through. */
  written?: () => void;
}

export class SerialWire {
  readonly port: Duplex;
  private readonly byteMs: number;
  private readonly inbound: Pending[] = [];
  private readonly outbound: Pending[] = [];
  private inboundFreeAt = 0;
  private outboundFreeAt = 0;
  private readonly inboundTimer: Timer;
  private readonly outboundTimer: Timer;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    baudRate: number,
    /** Called for every byte the controller receives, in order, at the time it arrives. */
    private readonly onByte: (byte: number) => void,
  ) {
    this.byteMs = baudRate > 0 ? (10 / baudRate) * 1000 : 0;
    this.inboundTimer = new Timer(clock);
    this.outboundTimer = new Timer(clock);
    this.port = new Duplex({
      read: () => {},
      write: (chunk: Buffer, _encoding, callback) => this.receive(chunk, () => callback()),
      final: (callback) => callback(),
    });
  }

  /** The controller transmits `text` (ASCII). */
  send(text: string): void {
    if (this.closed || text.length === 0) return;
    const bytes = Buffer.from(text, 'latin1');
    if (this.byteMs === 0) {
      this.port.push(bytes);
      return;
    }
    let at = Math.max(this.clock.now(), this.outboundFreeAt);
    for (const byte of bytes) this.outbound.push({ byte, due: (at += this.byteMs) });
    this.outboundFreeAt = at;
    this.deliverOutbound();
  }

  /** Stop all timers and end the stream; writes still on the wire are acknowledged but never delivered. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inboundTimer.stop();
    this.outboundTimer.stop();
    for (const pending of this.inbound.splice(0)) pending.written?.();
    this.outbound.length = 0;
    this.port.push(null);
  }

  private receive(chunk: Buffer, written: () => void): void {
    if (this.closed) return written();
    if (this.byteMs === 0) {
      for (const byte of chunk) this.onByte(byte);
      return written();
    }
    if (chunk.length === 0) return written();
    let at = Math.max(this.clock.now(), this.inboundFreeAt);
    // Like an operating system's serial driver, a write is done as soon as its bytes are queued for the UART,
    // so the host's next write follows on the wire with no gap; only past a tty's buffer does it wait.
    const queued = this.inbound.length + chunk.length <= OS_TX_BUFFER;
    chunk.forEach((byte, i) => this.inbound.push({ byte, due: (at += this.byteMs), written: !queued && i === chunk.length - 1 ? written : undefined }));
    this.inboundFreeAt = at;
    if (queued) written();
    this.deliverInbound();
  }

  private deliverInbound(): void {
    const now = this.clock.now();
    while (this.inbound.length && this.inbound[0]!.due <= now + 1e-9 && !this.closed) {
      const pending = this.inbound.shift()!;
      this.onByte(pending.byte);
      pending.written?.();
    }
    if (this.inbound.length) this.inboundTimer.at(this.inbound[0]!.due, () => this.deliverInbound());
  }

  private deliverOutbound(): void {
    const now = this.clock.now();
    const ready: number[] = [];
    while (this.outbound.length && this.outbound[0]!.due <= now + 1e-9) ready.push(this.outbound.shift()!.byte);
    if (ready.length) this.port.push(Buffer.from(ready));
    if (this.outbound.length) this.outboundTimer.at(this.outbound[0]!.due, () => this.deliverOutbound());
  }
}
