// connectService against a real (in-process) Aedes broker: the online flag, the last will, and reconnection.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { closeService, connectService } from './mqtt.js';
import { createLogger } from './log.js';

const log = createLogger('test', 'error');

async function startAedes(port = 0) {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const stop = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `mqtt://127.0.0.1:${address.port}`, port: address.port, stop };
}

/** The retained value of a topic, as a client connecting now sees it. */
async function retained(url: string, topic: string): Promise<string> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4 });
  try {
    return await new Promise<string>((resolve) => {
      client.on('message', (_t, payload) => resolve(payload.toString()));
      void client.subscribeAsync(topic);
    });
  } finally {
    await client.endAsync();
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('connectService', () => {
  it('runs onConnect, then announces online=true (retained), and online=false when closed', async () => {
    const broker = await startAedes();
    cleanups.push(broker.stop);
    const calls: string[] = [];
    const client = connectService({ url: broker.url, clientId: 'svc-1', onlineTopic: 'svc/1/online', log, onConnect: () => void calls.push('connect') });
    await new Promise((r) => client.once('connect', r));
    await expect.poll(() => retained(broker.url, 'svc/1/online')).toBe('true');
    expect(calls).toEqual(['connect']);
    await closeService(client, 'svc/1/online');
    expect(await retained(broker.url, 'svc/1/online')).toBe('false');
  });

  it('leaves online=false behind as its last will when the connection dies', async () => {
    const broker = await startAedes();
    cleanups.push(broker.stop);
    const client = connectService({ url: broker.url, clientId: 'svc-2', onlineTopic: 'svc/2/online', log, onConnect: () => {} });
    await expect.poll(() => retained(broker.url, 'svc/2/online')).toBe('true');
    client.options.reconnectPeriod = 0;
    (client.stream as net.Socket).destroy(); // the process vanished: no clean disconnect
    await expect.poll(() => retained(broker.url, 'svc/2/online')).toBe('false');
    await client.endAsync(true);
  });

  it('reconnects within 2 s of the broker coming back, and runs onConnect again', async () => {
    const first = await startAedes();
    let connects = 0;
    const client = connectService({ url: first.url, clientId: 'svc-3', onlineTopic: 'svc/3/online', log, onConnect: () => void connects++ });
    cleanups.push(() => client.endAsync(true));
    await expect.poll(() => connects).toBe(1);
    await first.stop();
    await new Promise((r) => setTimeout(r, 2500)); // several failed attempts: the backoff has grown to its cap
    const second = await startAedes(first.port);
    cleanups.push(second.stop);
    const back = Date.now();
    await expect.poll(() => connects, { timeout: 5000 }).toBe(2);
    expect(Date.now() - back).toBeLessThan(2500);
    expect(await retained(second.url, 'svc/3/online')).toBe('true');
  });
});
