// Which MQTT client ids a user of the auth file may connect with. A client id names a session: a second client
// with the same id takes the session over (MQTT-3.1.4-2), disconnecting the first and receiving what was queued
// for it. So with an auth file each id belongs to one user, and a user may take over only its own sessions:
//   - a user's ids are its name, or its name followed by `-` or `:` and anything (`ana`, `ana-laptop`, `ana:cli-1`);
//   - ids starting with `labrun-` are the labrun services' (`labrun-engine-<id>`, `labrun-hw-…`, `labrun-gateway-…`)
//     and only users with the `service` role may use them, whatever their names;
//   - an empty id is fine: the broker makes up a new one that nobody else has.
import type { Role } from '@labrun/auth';

/** The prefix of the ids the labrun services connect with, reserved for the `service` role. */
export const SERVICE_ID_PREFIX = 'labrun-';

/** Why `user` (of `role`) may not connect as `clientId`, or undefined if it may. */
export function clientIdRefusal(user: string, role: Role, clientId: string): string | undefined {
  if (clientId === '') return undefined;
  if (clientId.startsWith(SERVICE_ID_PREFIX)) {
    if (role === 'service') return undefined;
    return `client ids starting with ${SERVICE_ID_PREFIX} are reserved for the labrun services (users with the service role)`;
  }
  if (clientId === user || clientId.startsWith(`${user}-`) || clientId.startsWith(`${user}:`)) return undefined;
  return `user ${user} may only use client ids ${user}, ${user}-… or ${user}:…`;
}
