// What the broker refuses to read from a client, closing its connection as MQTT 3.1.1 prescribes for a malformed
// packet: a packet larger than BROKER_MAX_PACKET_BYTES, and a topic or topic filter with a NUL (U+0000) in it
// (sections 1.5.3 and 4.7.3: "The Server MUST close the connection").
//
// Aedes 1.2 offers neither: it parses with mqtt-packet, which buffers a packet of any size its fixed header announces
// (up to 256 MiB) until all of it has arrived, and passes NULs through. Both checks sit in that parser, one per
// connection (Aedes keeps it as client._parser): the size as soon as the fixed header's remaining length is read,
// before the body is buffered; the topics once the packet is parsed, before Aedes sees it. A parser error is how
// mqtt-packet reports any malformed packet, and Aedes answers it by closing that one connection and logging
// `client error` with the message below.
import type { Client } from 'aedes';

/** The parts of mqtt-packet's parser (not in its types) that the checks hook into. */
interface PacketParser {
  packet: { cmd?: string; length: number; topic?: unknown; subscriptions?: { topic?: unknown }[]; unsubscriptions?: unknown[]; will?: { topic?: unknown } | null };
  _parseLength(): boolean;
  _newPacket(): boolean;
  _emitError(error: Error): void;
}

const hasNul = (topic: unknown): topic is string => typeof topic === 'string' && topic.includes('\u0000');

/** The first topic or topic filter in `packet` that holds a NUL, if any. Runs for every packet: no allocation. */
export function topicWithNul(packet: PacketParser['packet']): string | undefined {
  if (hasNul(packet.topic)) return packet.topic;
  if (hasNul(packet.will?.topic)) return packet.will.topic;
  for (const { topic } of packet.subscriptions ?? []) if (hasNul(topic)) return topic;
  for (const topic of packet.unsubscriptions ?? []) if (hasNul(topic)) return topic;
  return undefined;
}

export function limitPackets(client: Client, maxPacketBytes: number): void {
  const parser = (client as unknown as { _parser: PacketParser })._parser;
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    if (!parseLength()) return false;
    if (parser.packet.length > maxPacketBytes) {
      parser._emitError(new Error(`${parser.packet.cmd ?? 'a'} packet of ${parser.packet.length} bytes is larger than this broker's limit of ${maxPacketBytes} bytes (BROKER_MAX_PACKET_BYTES)`));
      return false;
    }
    return true;
  };
  const newPacket = parser._newPacket.bind(parser);
  parser._newPacket = () => {
    const topic = topicWithNul(parser.packet);
    if (topic !== undefined) {
      parser._emitError(new Error(`${parser.packet.cmd} topic ${JSON.stringify(topic)} contains a NUL character (U+0000), which MQTT 3.1.1 forbids`));
      return false;
    }
    return newPacket();
  };
}
