// A client that stops reading must not hold up anyone else: what waits to be sent to it is bounded, and once it is
// over the bound the client is cut off.
//
// Why this is needed with Aedes 1.2: when a write to a client's socket returns false (its buffer is full), Aedes
// waits for 'drain' before it calls back the message's delivery (lib/write.js, Client#waitForDrain). mqemitter only
// starts the next message once every subscriber's delivery of the current one has called back, `concurrency` (100)
// messages at a time; and a publisher's PUBACK waits for the same. So one QoS 1 subscriber to `run/#` that never
// reads stopped every message to every client until Aedes' drainTimeout (60 s) dropped it.
//
// Here the connection's write() always says there is room, so Aedes never waits for a drain, and the bytes waiting in
// the connection (its writableLength) are checked at every write instead: past `maxBacklogBytes` the connection is
// destroyed, as Mosquitto disconnects a client past max_queued_messages. A client that reads keeps its backlog near
// zero however busy the broker is; one that stopped is cut off once the messages it did not read reach the bound.
import type { Duplex } from 'node:stream';
import type { Logger } from '@labrun/service';

type Connection = Pick<Duplex, 'write' | 'writableLength' | 'destroy' | 'destroyed'> & { client?: { id: string | null } };

export function limitClientBacklog(connection: Connection, maxBacklogBytes: number, log: Logger): void {
  const write = connection.write.bind(connection) as (...args: unknown[]) => boolean;
  (connection as { write: unknown }).write = (...args: unknown[]): boolean => {
    write(...args);
    if (connection.writableLength > maxBacklogBytes && !connection.destroyed) {
      log.warn('cut off a client that stopped reading: more than BROKER_MAX_CLIENT_BACKLOG_BYTES waited to be sent to it', {
        // Aedes sets conn.client when it takes the connection; the id is null until its CONNECT is handled.
        clientId: connection.client?.id ?? undefined,
        backlogBytes: connection.writableLength,
        limitBytes: maxBacklogBytes,
      });
      // Without an error: Aedes then closes the client as for any dropped connection (its will is published).
      connection.destroy();
    }
    // Backpressure is this bound, not Aedes waiting for 'drain' (which would stall every other client).
    return true;
  };
}
