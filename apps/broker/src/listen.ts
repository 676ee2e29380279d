// Bind a listener and, when that fails, say why in words a user can act on (busy port, bad host, privileges).
import type { AddressInfo, Server } from 'node:net';

/** A listener that could not bind; its message is meant for the user as it is, without a stack trace. */
export class ListenError extends Error {}

export interface Listener {
  /** What listens, for messages: `MQTT` or `MQTT over WebSocket`. */
  what: string;
  /** The variable that sets this listener's port. */
  portVar: 'BROKER_PORT' | 'BROKER_WS_PORT';
  /** The URL scheme and path clients use to reach it. */
  scheme: 'mqtt' | 'ws';
  path?: string;
}

/** `host` as it goes in a URL: IPv6 in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Where a client on this machine reaches a listener on `host`: "all interfaces" is not an address to connect to. */
function clientHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
}

export function listenerUrl(listener: Listener, host: string, port: number): string {
  return `${listener.scheme}://${urlHost(host)}:${port}${listener.path ?? ''}`;
}

export function describeListenError(error: NodeJS.ErrnoException, listener: Listener, host: string, port: number): string {
  const where = `${urlHost(host)}:${port}`;
  const cannot = `cannot listen for ${listener.what} on ${where}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return (
        `${cannot}: port ${port} on ${host} is already in use. Another MQTT broker (such as Mosquitto) may be running there. ` +
        `To use that broker instead, start labrun with MQTT_URL=${listenerUrl(listener, clientHost(host), port)} npm start; ` +
        `or run this broker on another port with ${listener.portVar}=<n> (0 picks a free one).`
      );
    case 'EACCES':
      return `${cannot}: permission denied (ports below 1024 need extra privileges); choose a port of 1024 or above with ${listener.portVar}=<n>`;
    case 'EADDRNOTAVAIL':
      return `${cannot}: ${host} is not an address of this machine; set BROKER_HOST to one of its addresses, such as 127.0.0.1`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${cannot}: the host name ${host} cannot be resolved; set BROKER_HOST to an address such as 127.0.0.1`;
    default:
      return `${cannot}: ${error.message}`;
  }
}

/** Listen on `host:port` and resolve with the port actually bound (the system's choice when `port` is 0). */
export function listen(server: Server, listener: Listener, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(new ListenError(describeListenError(error, listener, host, port)));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stop accepting connections; resolves once the existing ones have ended too. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
