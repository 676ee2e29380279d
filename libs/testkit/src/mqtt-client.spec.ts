import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectTestClient, topicMatches } from './mqtt-client.js';

describe('topicMatches', () => {
  it('matches MQTT wildcards as a broker does', () => {
    expect(topicMatches('run/+/status', 'run/r-1/status')).toBe(true);
    expect(topicMatches('run/+/status', 'run/r-1/events')).toBe(false);
    expect(topicMatches('run/#', 'run/r-1/events')).toBe(true);
    expect(topicMatches('run/+', 'run/r-1/events')).toBe(false);
    expect(topicMatches('hw/sim-1/state', 'hw/sim-1/state')).toBe(true);
  });
});

describe('connectTestClient', () => {
  it("keeps a message that arrives in the same read as the CONNACK (a persistent session's queued one)", async () => {
    // A broker that answers CONNECT with CONNACK and a queued PUBLISH (QoS 1, id 1) in one TCP write.
    const topic = Buffer.from('run/r-1/actions');
    const payload = Buffer.from('resume');
    const connack = Buffer.from([0x20, 0x02, 0x00, 0x00]);
    const publish = Buffer.concat([Buffer.from([0x32, 2 + topic.length + 2 + payload.length, 0, topic.length]), topic, Buffer.from([0, 1]), payload]);
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => socket.write(Buffer.concat([connack, publish])));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = await connectTestClient(`mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { reconnectPeriod: 0 });
      expect((await client.waitFor('run/r-1/actions', () => true, 1000)).text).toBe('resume');
      client.client.end(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
