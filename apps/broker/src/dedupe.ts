// Aedes 1.2 drops, for each client, any message numbered (brokerId, brokerCounter) at or below the highest it has
// delivered to that client from that broker (lib/client.js dedupe()). It means to drop the second copy of a message
// matching two of the client's subscriptions, but it also drops a message that merely arrives after one published
// later — which on Redis happens all the time: a QoS 1 message with a persistent subscriber is written to Redis before
// it goes out, a retained one too, and a message with neither goes out at once. Measured: creates lost to an engine,
// statuses lost to a dashboard. Here a client drops only true copies — the same broker and number seen lately.
import type { Client } from 'aedes';

/** How many message numbers per client are remembered: copies of one message arrive back to back. */
const REMEMBERED = 1024;

type Deliver = (packet: { brokerId?: string; brokerCounter?: number }, callback: (error?: Error) => void) => void;

export function dedupeExactly(client: Client): void {
  const target = client as unknown as { duplicates: Record<string, number>; deliver0: Deliver; deliverQoS: Deliver };
  // Aedes's own check then passes every message: the highest number it reads is always 0.
  target.duplicates = new Proxy(Object.create(null) as Record<string, number>, { get: () => 0, set: () => true, deleteProperty: () => true });
  const seen = new Set<string>();
  const firstTime = (packet: { brokerId?: string; brokerCounter?: number }) => {
    if (!packet.brokerId) return true;
    const key = `${packet.brokerId}:${packet.brokerCounter}`;
    if (seen.has(key)) return false;
    seen.add(key);
    if (seen.size > REMEMBERED) seen.delete(seen.values().next().value!);
    return true;
  };
  const deliver0 = target.deliver0;
  const deliverQoS = target.deliverQoS;
  target.deliver0 = (packet, callback) => (firstTime(packet) ? deliver0(packet, callback) : setImmediate(callback));
  // Aedes's deliverQoS hands a QoS 0 message to deliver0 (the one here): it is checked there, once.
  target.deliverQoS = (packet, callback) => {
    if ((packet as { qos?: number }).qos === 0) return target.deliver0(packet, callback);
    if (firstTime(packet)) deliverQoS(packet, callback);
    else setImmediate(callback);
  };
}
