// How the broker treats one client's full socket: waited for briefly, then not waited for, then cut off.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Logger } from '@labrun/service';
import { limitClientBacklog } from './slow-clients.js';

/** A connection whose peer never reads: nothing written ever leaves, as with a client that stopped reading. */
function stalledConnection(highWaterMark = 1024) {
  const connection = new Writable({ highWaterMark, write: () => {} }) as Writable & { client?: { id: string | null } };
  connection.client = { id: 'viewer-7' };
  return connection;
}

function recordingLog() {
  const warnings: [string, Record<string, unknown> | undefined][] = [];
  const log: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (message, fields) => warnings.push([message, fields]), child: () => log };
  return { log, warnings };
}

describe('limitClientBacklog', () => {
  it('says the socket is full while the wait lasts, then releases the waiter and stops asking it to wait', async () => {
    const connection = stalledConnection();
    const { log } = recordingLog();
    limitClientBacklog(connection, { maxBacklogBytes: 1024 * 1024, maxWaitMs: 20 }, log);
    expect(connection.write(Buffer.alloc(2048))).toBe(false); // over the high-water mark: the writer should wait
    await new Promise((resolve) => connection.once('drain', resolve)); // released although nothing left
    expect(connection.writableLength).toBe(2048);
    expect(connection.write(Buffer.alloc(2048))).toBe(true); // and not asked to wait again
    expect(connection.destroyed).toBe(false);
  });

  it('cuts the client off once more than the backlog bound waits, naming its client id', () => {
    const connection = stalledConnection();
    const { log, warnings } = recordingLog();
    limitClientBacklog(connection, { maxBacklogBytes: 8192, maxWaitMs: 60_000 }, log);
    for (let i = 0; i < 4; i++) connection.write(Buffer.alloc(2048));
    expect(connection.destroyed).toBe(false); // 8192 bytes: at the bound, not over it
    connection.write(Buffer.alloc(1));
    expect(connection.destroyed).toBe(true);
    expect(warnings).toEqual([
      ['cut off a client that stopped reading: more than BROKER_MAX_CLIENT_BACKLOG_BYTES waited to be sent to it', { clientId: 'viewer-7', backlogBytes: 8193, limitBytes: 8192 }],
    ]);
  });

  it('waits again for a client whose socket drained after it was released', async () => {
    let release: (() => void) | undefined;
    const connection = new Writable({ highWaterMark: 1024, write: (_chunk, _encoding, done) => (release = done) });
    limitClientBacklog(connection, { maxBacklogBytes: 1024 * 1024, maxWaitMs: 20 }, recordingLog().log);
    expect(connection.write(Buffer.alloc(2048))).toBe(false);
    await new Promise((resolve) => connection.once('drain', resolve)); // the wait was cut short
    const drained = new Promise((resolve) => connection.once('drain', resolve));
    release!(); // the peer read it all: a real drain
    await drained;
    expect(connection.write(Buffer.alloc(2048))).toBe(false);
  });
});
