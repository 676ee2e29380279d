// What GRBL's serial receive interrupt does with each byte (serial.c, ISR(SERIAL_RX)): real-time command bytes
// are picked off at once and never reach the buffer; every other byte waits in the 128-byte receive buffer until
// the main loop reads it. When the buffer is full, further bytes are dropped — silently, as on the real
// controller. That is why a sender must count characters: the sum of the lengths (newline included) of the lines
// it has sent and not yet seen answered (`ok`/`error:N`) may never exceed 128.
import { RX_BUFFER_SIZE } from './report.js';

/** GRBL 1.1's real-time command bytes. */
export const REALTIME = {
  reset: 0x18, // ctrl-x
  statusReport: 0x3f, // ?
  cycleStart: 0x7e, // ~
  feedHold: 0x21, // !
  safetyDoor: 0x84,
  jogCancel: 0x85,
  /** 0x90-0x94 feed, 0x95-0x97 rapid, 0x99-0x9D spindle overrides; 0x9E spindle stop; 0xA0/0xA1 coolant toggles. */
  firstOverride: 0x90,
  lastOverride: 0xa1,
} as const;

export type RealtimeCommand = 'reset' | 'statusReport' | 'cycleStart' | 'feedHold' | 'safetyDoor' | 'jogCancel' | 'override';

/** Which real-time command a byte is, if it is one. Unknown bytes above 0x7F are thrown away by GRBL: 'ignored'. */
export function realtimeCommand(byte: number): RealtimeCommand | 'ignored' | null {
  switch (byte) {
    case REALTIME.reset:
      return 'reset';
    case REALTIME.statusReport:
      return 'statusReport';
    case REALTIME.cycleStart:
      return 'cycleStart';
    case REALTIME.feedHold:
      return 'feedHold';
  }
  if (byte <= 0x7f) return null;
  if (byte === REALTIME.safetyDoor) return 'safetyDoor';
  if (byte === REALTIME.jogCancel) return 'jogCancel';
  // The override set GRBL 1.1h recognises (0x98 and 0x9F are unused; 0xA1 needs M7, which is not built in).
  if ((byte >= 0x90 && byte <= 0x97) || (byte >= 0x99 && byte <= 0x9e) || byte === 0xa0) return 'override';
  return 'ignored';
}

/** The 128-byte serial receive buffer. */
export class RxBuffer {
  private bytes: number[] = [];

  /** Store a byte; false (and the byte is lost) when the buffer is full. */
  put(byte: number): boolean {
    if (this.bytes.length >= RX_BUFFER_SIZE) return false;
    this.bytes.push(byte);
    return true;
  }

  /** The next byte the main loop reads, or undefined when empty. */
  read(): number | undefined {
    return this.bytes.shift();
  }

  /** Free bytes, the second number of `Bf:`. */
  get available(): number {
    return RX_BUFFER_SIZE - this.bytes.length;
  }

  get empty(): boolean {
    return this.bytes.length === 0;
  }

  /** serial_reset_read_buffer(): a soft reset discards whatever was waiting. */
  flush(): void {
    this.bytes = [];
  }
}
