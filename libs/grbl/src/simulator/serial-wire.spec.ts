// The serial line's speed: at 115200 baud a byte (start bit, 8 data bits, stop bit) takes 10/115200 s ≈ 87 µs,
// in each direction.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GrblSimulator } from './index.js';
import { SerialTerminal } from './terminal.js';

const BYTE_MS = (10 / 115200) * 1000;
const BANNER = "\r\nGrbl 1.1h ['$' for help]\r\n[MSG:'$H'|'$X' to unlock]\r\n";

let sim: GrblSimulator;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  sim.close();
  vi.useRealTimers();
});

/** Advance 1 ms at a time until `done()`; returns the milliseconds it took. */
async function msUntil(done: () => boolean, limit = 1000): Promise<number> {
  for (let ms = 0; ms <= limit; ms++) {
    if (done()) return ms;
    await vi.advanceTimersByTimeAsync(1);
  }
  throw new Error(`not done within ${limit} ms`);
}

describe('the serial line at 115200 baud', () => {
  it('sends the controller output at 10 bits per byte', async () => {
    sim = new GrblSimulator({ baudRate: 115200 });
    const term = new SerialTerminal(sim.port);
    await vi.advanceTimersByTimeAsync(2);
    expect(term.text).toBe(BANNER.slice(0, Math.floor(2 / BYTE_MS))); // 23 bytes after 2 ms
    const elapsed = 2 + (await msUntil(() => term.text === BANNER));
    expect(elapsed).toBe(Math.ceil(BANNER.length * BYTE_MS)); // 53 bytes: 4.6 ms
  });

  it('takes N × 10/115200 s to send N bytes: a $$ listing', async () => {
    sim = new GrblSimulator({ baudRate: 115200 });
    const term = new SerialTerminal(sim.port);
    await msUntil(() => term.text === BANNER);
    const from = term.text.length;
    term.send('$$\n');
    const elapsed = await msUntil(() => term.text.endsWith('ok\r\n'));
    const replyBytes = term.text.length - from;
    expect(replyBytes).toBeGreaterThan(300);
    // 3 bytes in, the listing out, rounded up to the next millisecond tick.
    expect(elapsed).toBe(Math.ceil((3 + replyBytes) * BYTE_MS));
  });

  it('delivers what the host writes at the same pace (the write itself is done once queued): a 101-byte line is answered after 101 byte times', async () => {
    sim = new GrblSimulator({ baudRate: 115200 });
    const term = new SerialTerminal(sim.port);
    await msUntil(() => term.text === BANNER);
    const line = `(${'x'.repeat(98)})\n`;
    const from = term.text.length;
    let written = false;
    sim.port.write(line, () => (written = true));
    await vi.advanceTimersByTimeAsync(Math.floor(line.length * BYTE_MS)); // 8 ms: not all there yet
    // The write is done once queued, as with an operating system's serial driver; the bytes are still on the wire.
    expect(written).toBe(true);
    expect(term.text.length).toBe(from);
    const elapsed = await msUntil(() => term.text.endsWith('ok\r\n'));
    // 101 bytes in, "ok\r\n" out: 9.1 ms, so by the tenth millisecond.
    expect(8 + elapsed).toBe(Math.ceil((line.length + 4) * BYTE_MS));
  });

  it('delivers everything at once at baud rate 0', async () => {
    sim = new GrblSimulator({ baudRate: 0 });
    const term = new SerialTerminal(sim.port);
    await vi.advanceTimersByTimeAsync(0);
    term.send('$$\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(term.text.endsWith('ok\r\n')).toBe(true);
  });
});
