// A client that stops reading must not hold up anyone else: the broker waits for one client's socket only briefly,
// what waits to be sent to it is bounded, and once it is over the bound the client is cut off.
//
// Why this is needed with Aedes 1.2: when a write to a client's socket returns false (its buffer is full), Aedes
// waits for 'drain' before it calls back the message's delivery (lib/write.js, Client#waitForDrain). mqemitter only
// starts the next message once every subscriber's delivery of the current one has called back, `concurrency` (100)
// messages at a time; and a publisher's PUBACK waits for the same. So one QoS 1 subscriber to `run/#` that never
// reads stopped every message to every client until Aedes' drainTimeout (60 s) dropped it.
//
// That wait is also what paces a fast publisher (the engine) to the subscribers that read: their PUBACKs and
// deliveries keep step, so the broker holds little for anyone. It is kept for clients that read, but a client whose
// socket stays full is waited for at most `maxWaitMs`: then Aedes is released (a 'drain' is emitted for it) and the
// client is no longer waited for — its write() always says there is room — until its socket really drains.
// Meanwhile the bytes waiting for it (the connection's writableLength) are checked at every write: past
// `maxBacklogBytes` the connection is destroyed, as Mosquitto disconnects a client past max_queued_messages. One that
// stopped reading is cut off once the messages it did not read reach the bound; everyone else is held up once, for
// at most `maxWaitMs`.
import type { Logger } from '@labrun/service';

/** What is used of a connection (a TCP or TLS socket, a WebSocket stream); Aedes sets `client` on it. */
interface Connection {
  write(chunk: unknown, callback?: (error?: Error | null) => void): boolean;
  readonly writableLength: number;
  readonly destroyed: boolean;
  destroy(): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  emit(event: 'drain'): boolean;
  client?: { id: string | null };
}

export interface BacklogLimits {
  maxBacklogBytes: number;
  maxWaitMs: number;
}

export function limitClientBacklog(connection: Connection, { maxBacklogBytes, maxWaitMs }: BacklogLimits, log: Logger, onCutOff: () => void = () => {}): void {
  const write = connection.write.bind(connection) as (...args: unknown[]) => boolean;
  /** Set while Aedes waits for this connection to drain, until the wait is cut short. */
  let waitTimer: NodeJS.Timeout | undefined;
  /** The client kept Aedes waiting too long: it is not waited for again until its socket drains. */
  let stalled = false;
  let releasing = false;
  connection.on('drain', () => {
    if (releasing) return;
    clearTimeout(waitTimer);
    waitTimer = undefined;
    stalled = false;
  });
  connection.on('close', () => clearTimeout(waitTimer));
  const stopWaiting = () => {
    waitTimer = undefined;
    stalled = true;
    releasing = true;
    connection.emit('drain');
    releasing = false;
  };
  (connection as { write: unknown }).write = (...args: unknown[]): boolean => {
    const room = write(...args);
    if (connection.writableLength > maxBacklogBytes && !connection.destroyed) {
      log.warn('cut off a client that stopped reading: more than BROKER_MAX_CLIENT_BACKLOG_BYTES waited to be sent to it', {
        // Aedes sets conn.client when it takes the connection; the id is null until its CONNECT is handled.
        clientId: connection.client?.id ?? undefined,
        backlogBytes: connection.writableLength,
        limitBytes: maxBacklogBytes,
      });
      clearTimeout(waitTimer);
      onCutOff();
      // Without an error: Aedes then closes the client as for any dropped connection (its will is published).
      connection.destroy();
      return true;
    }
    if (room || stalled) return true;
    waitTimer ??= setTimeout(stopWaiting, maxWaitMs).unref();
    return false;
  };
}
