// Bind the HTTP server and, when that fails, say why in words a user can act on, naming the variable to change.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/** The server could not bind; the message is meant for the user as it is, without a stack trace. */
export class ListenError extends Error {}

/** `host` as it goes in a URL: IPv6 in brackets. */
export const urlHost = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

export function describeListenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  const cannot = `cannot listen for HTTP on ${urlHost(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `${cannot}: port ${port} is already in use (another gateway may be running); choose another with HTTP_PORT=<n> (0 picks a free one)`;
    case 'EACCES':
      return `${cannot}: permission denied (ports below 1024 need extra privileges); choose a port of 1024 or above with HTTP_PORT=<n>`;
    case 'EADDRNOTAVAIL':
      return `${cannot}: ${host} is not an address of this machine; set HTTP_HOST to one of its addresses, such as 127.0.0.1`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${cannot}: the host name ${host} cannot be resolved; set HTTP_HOST to an address such as 127.0.0.1`;
    default:
      return `${cannot}: ${error.message}`;
  }
}

/** Listen on `host:port` and resolve with the port actually bound (the system's choice when `port` is 0). */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(new ListenError(describeListenError(error, host, port)));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
