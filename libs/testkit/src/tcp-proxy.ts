// A TCP proxy for tests that cut a service off from what it depends on (Redis, say) and give it back: cut()
// drops every connection through it and refuses new ones; restore() accepts them again on the same port.
import net from 'node:net';

export interface TcpProxy {
  /** The port on 127.0.0.1 to connect to instead of the target's. */
  port: number;
  /** Reset every connection through the proxy and stop listening, so reconnects are refused. */
  cut(): Promise<void>;
  /** Listen again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** `delayMs` holds every chunk that long each way, in order: a slow network, or a slow server. */
export async function startTcpProxy(target: { host: string; port: number }, { delayMs = 0 }: { delayMs?: number } = {}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  // Half-open on both sides, so that one side's end reaches the other after the data before it, as on a real link.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: target.port, host: target.host, allowHalfOpen: true });
    const later = (forward: () => void) => (delayMs === 0 ? forward() : setTimeout(forward, delayMs));
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(socket);
      socket.on('data', (chunk) => later(() => other.destroyed || other.write(chunk)));
      socket.on('end', () => later(() => other.destroyed || other.end()));
      socket.on('error', () => other.destroy());
      socket.on('close', () => sockets.delete(socket));
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = async () => {
    const closed = server.listening ? new Promise((resolve) => server.close(resolve)) : Promise.resolve();
    for (const socket of sockets) socket.resetAndDestroy();
    await closed;
  };
  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    cut: stop,
    restore: () => listen(port),
    close: stop,
  };
}
