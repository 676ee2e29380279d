// A TCP proxy for tests that cut a service off from what it depends on (Redis, say) and give it back: cut()
// drops every connection through it and refuses new ones; restore() accepts them again on the same port.
import net from 'node:net';

export interface TcpProxy {
  /** The port on 127.0.0.1 to connect to instead of the target's. */
  port: number;
  /** Connections open through the proxy now. */
  readonly open: number;
  /** Reset every connection through the proxy and stop listening, so reconnects are refused. */
  cut(): Promise<void>;
  /** Listen again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(socket);
      socket.pipe(other);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        other.destroy();
      });
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
    get open() {
      return sockets.size / 2;
    },
    cut: stop,
    restore: () => listen(port),
    close: stop,
  };
}
