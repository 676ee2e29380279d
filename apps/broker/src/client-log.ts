// What the broker says about its clients: connects and disconnects at debug, client errors at warn.
import type { Aedes, Client } from 'aedes';
import type { Logger } from '@labrun/service';

const socketOf = (client: Client) => client.req?.socket ?? (client.conn as { remoteAddress?: string; remotePort?: number });

/** Where a client connects from, `address:port`, for logs. */
export function remote(client: Client): string | undefined {
  const socket = socketOf(client);
  return socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
}

/** The address a client connects from, without the port: what the login rate limit counts. */
export function remoteAddress(client: Client): string | undefined {
  return socketOf(client).remoteAddress;
}

/** Whether a client's error is its CONNACK refusing the login: an identifier refused (2), a bad user name or password (4), not authorized (5). */
export function refusedLogin(error: Error): boolean {
  const code = (error as { errorCode?: number }).errorCode;
  return code === 2 || code === 4 || code === 5;
}

export function logClients(broker: Aedes, log: Logger): void {
  broker.on('client', (client) => log.debug('client connected', { clientId: client.id, from: remote(client) }));
  broker.on('clientDisconnect', (client) => log.debug('client disconnected', { clientId: client.id }));
  broker.on('keepaliveTimeout', (client) => log.debug('client timed out', { clientId: client.id }));
  // A bad packet or a dropped socket ends that one client; Aedes reports it here and carries on serving the rest.
  broker.on('clientError', (client, error) => {
    // A log-in refused by the auth file has already been logged, with the reason, where it was decided (auth.ts).
    if (refusedLogin(error)) log.debug('client refused', { clientId: client.id, from: remote(client), error: error.message });
    else log.warn('client error', { clientId: client.id, from: remote(client), error: error.message });
  });
  broker.on('connectionError', (client, error) => log.warn('connection error', { from: remote(client), error: error.message }));
}
