// How the broker drops a publish without closing the client's connection: Aedes lets authorizePublish change
// the packet, so one sent on to a topic nobody may subscribe to reaches nobody, and the client still gets its
// PUBACK (or PUBREC). MQTT 3.1.1 has no negative PUBACK, and an error from the hook would close the connection,
// after which clients such as MQTT.js send the same publish again on every reconnect.
import type { PublishPacket } from 'aedes';

/** Where dropped publishes go: a `$` topic outside every role's subscriptions (`#` never matches `$` topics). */
export const DISCARDED = '$labrun/discarded';

/** Make `packet` reach nobody and leave nothing retained. */
export function discard(packet: PublishPacket): void {
  packet.topic = DISCARDED;
  packet.retain = false;
  packet.payload = Buffer.alloc(0);
}
