// Server-sent events (text/event-stream): one named message per change, a comment now and then so proxies
// keep the connection open, and a slow reader cut off (its EventSource reconnects and starts afresh with the
// current status) rather than the gateway buffering without end.
import type { IncomingMessage, ServerResponse } from 'node:http';

const KEEPALIVE_MS = 15_000;
/** More than this many bytes waiting for a client that does not read means the client is gone or too slow. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface EventStream {
  send(event: string, data: unknown): void;
  /** Called once when the client goes away or the stream is ended. */
  onClose(listener: () => void): void;
  end(): void;
}

export function openEventStream(req: IncomingMessage, res: ServerResponse): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    // nginx and similar proxies buffer responses unless told not to.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  // Reconnect quickly after the gateway restarts.
  res.write('retry: 2000\n\n');

  const closeListeners: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    for (const listener of closeListeners) listener();
    res.end();
  };
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  req.on('close', close);
  res.on('close', close);

  return {
    send(event, data) {
      if (closed) return;
      if (res.writableLength > MAX_BUFFERED_BYTES) return close();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose: (listener) => void closeListeners.push(listener),
    end: close,
  };
}
