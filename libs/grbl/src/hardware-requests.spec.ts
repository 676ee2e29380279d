// Hardware requests decoded from raw payloads and carried out on the simulator.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HardwareReply } from '@labrun/contracts';
import { readHardwareRequest, runHardwareRequest } from './hardware-requests.js';
import { SimulatedMachine } from './simulated-machine.js';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('readHardwareRequest', () => {
  it('reads a valid request', () => {
    const read = readHardwareRequest(bytes({ id: 'r1', replyTo: 'engine/e1/replies', op: 'move', params: { x: 1 } }));
    expect(read).toEqual({ ok: true, request: { id: 'r1', replyTo: 'engine/e1/replies', op: 'move', params: { x: 1 } } });
  });

  it('refuses garbage without a reply address: not JSON, not UTF-8, too big, not an object', () => {
    for (const payload of [bytes('hello'), Buffer.from([0xff, 0xfe, 0x7b]), Buffer.alloc(200_000, 0x20), bytes([1, 2])]) {
      const read = readHardwareRequest(payload);
      expect(read.ok).toBe(false);
      expect(read).not.toHaveProperty('reply');
    }
  });

  it('answers a bad request that says where to reply with bad-request', () => {
    const read = readHardwareRequest(bytes({ id: 'r2', replyTo: 'engine/e1/replies', op: 'fly' }));
    expect(read).toMatchObject({ ok: false, replyTo: 'engine/e1/replies', reply: { id: 'r2', ok: false, code: 'bad-request' } });
    if (!read.ok) expect(read.reply).toMatchObject({ message: expect.stringContaining('at op') });
  });

  it('does not reply to a wildcard topic', () => {
    expect(readHardwareRequest(bytes({ id: 'r3', replyTo: 'engine/#', op: 'fly' }))).not.toHaveProperty('reply');
    expect(readHardwareRequest(bytes({ id: 'r3', replyTo: 'engine/+/x', op: 'status' })).ok).toBe(false);
  });
});

describe('runHardwareRequest', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers a move when the motion completes, and a status at once even while moving', async () => {
    const machine = new SimulatedMachine();
    const replies: HardwareReply[] = [];
    void runHardwareRequest(machine, { id: 'm', replyTo: 'r', op: 'move', params: { x: 10, feed: 600 } }).then((r) => replies.push(r));
    await vi.advanceTimersByTimeAsync(500);
    replies.push(await runHardwareRequest(machine, { id: 's', replyTo: 'r', op: 'status' }));
    expect(replies).toMatchObject([{ id: 's', ok: true, state: { machine: 'Run', position: { x: 5 } } }]);
    await vi.advanceTimersByTimeAsync(500);
    expect(replies[1]).toMatchObject({ id: 'm', ok: true, state: { position: { x: 10, y: 0, z: 0 } } });
  });

  it('answers a move that stop interrupted with aborted', async () => {
    const machine = new SimulatedMachine();
    const move = runHardwareRequest(machine, { id: 'm', replyTo: 'r', op: 'move', params: { x: 10, feed: 600 } });
    await vi.advanceTimersByTimeAsync(300);
    const stop = await runHardwareRequest(machine, { id: 's', replyTo: 'r', op: 'stop' });
    expect(stop).toMatchObject({ ok: true, state: { machine: 'Idle', position: { x: 3 } } });
    expect(await move).toEqual({ id: 'm', ok: false, code: 'aborted', message: 'motion stopped' });
  });
});
