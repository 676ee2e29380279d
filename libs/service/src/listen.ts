// Binding a server to a port, and when that fails, saying why in words a user can act on: which port, which
// variable to change, and (through the service's own hint) what else may be listening there.
import { BlockList, isIPv4, isIPv6, type AddressInfo, type Server } from 'node:net';

export interface Listener {
  /** What listens, for messages: `MQTT`, `MQTT over WebSocket`, `HTTP`. */
  what: string;
  /** The variables that set this listener's host and port. */
  hostVar: string;
  portVar: string;
  /** Advice for a busy port: what may already be there and how to use it. */
  whenBusy?: (host: string, port: number) => string;
}

/** A listener that could not bind; its message is meant for the user as it is, without a stack trace. */
export class ListenError extends Error {}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Whether `host` only reaches this machine: 127.x.x.x, ::1 (in any spelling) or `localhost`. */
export function isLoopback(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (address === 'localhost') return true;
  if (isIPv4(address)) return loopback.check(address, 'ipv4');
  if (isIPv6(address)) return loopback.check(address, 'ipv6');
  return false;
}

/** `host` as it goes in a URL: IPv6 in brackets. */
export const urlHost = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/** Where a client on this machine reaches a listener on `host`: "all interfaces" is not an address to connect to. */
export const clientHost = (host: string): string => (host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host);

export function describeListenError(error: NodeJS.ErrnoException, listener: Listener, host: string, port: number): string {
  const cannot = `cannot listen for ${listener.what} on ${urlHost(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE': {
      const hint = listener.whenBusy ? ` ${listener.whenBusy(host, port)}` : '';
      return `${cannot}: port ${port} on ${host} is already in use.${hint} Choose another port with ${listener.portVar}=<n> (0 picks a free one).`;
    }
    case 'EACCES':
      return `${cannot}: permission denied (ports below 1024 need extra privileges); choose a port of 1024 or above with ${listener.portVar}=<n>`;
    case 'EADDRNOTAVAIL':
      return `${cannot}: ${host} is not an address of this machine; set ${listener.hostVar} to one of its addresses, such as 127.0.0.1`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${cannot}: the host name ${host} cannot be resolved; set ${listener.hostVar} to an address such as 127.0.0.1`;
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
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
