// The built broker's limits, seen from raw TCP sockets: a subscriber that stops reading is cut off and holds up
// nobody, a packet over BROKER_MAX_PACKET_BYTES is refused from its fixed header alone, and a NUL in any topic or
// topic filter closes the connection (MQTT 3.1.1 sections 1.5.3 and 4.7.3).
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientPool, startBroker, stopAll, type BrokerProcess } from '@labrun/testkit';

// MQTT 3.1.1 packets by hand: a raw socket is the only way to stop reading, or to send what mqtt.js would refuse.
const remainingLength = (n: number): Buffer => {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
};
const utf8 = (s: string) => {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};
const packet = (first: number, body: Buffer) => Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
const CONNECT = (clientId: string, will?: { topic: string; message: string }) =>
  packet(
    0x10,
    Buffer.concat([
      utf8('MQTT'),
      Buffer.from([4, 0x02 | (will ? 0x04 : 0), 0, 0]), // level 4, clean session (and a QoS 0 will), no keep-alive
      utf8(clientId),
      ...(will ? [utf8(will.topic), utf8(will.message)] : []),
    ]),
  );
const SUBSCRIBE = (filter: string, qos: 0 | 1) => packet(0x82, Buffer.concat([Buffer.from([0, 1]), utf8(filter), Buffer.from([qos])]));
const UNSUBSCRIBE = (filter: string) => packet(0xa2, Buffer.concat([Buffer.from([0, 2]), utf8(filter)]));
const PUBLISH = (topic: string, payload: string) => packet(0x30, Buffer.concat([utf8(topic), Buffer.from(payload)]));

interface RawClient {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves true once the broker closed the connection, false if it is still open after `ms`. */
  closedWithin(ms: number): Promise<boolean>;
}

const sockets: net.Socket[] = [];
async function rawConnect(url: string, first?: Buffer): Promise<RawClient> {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  sockets.push(socket);
  let received = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (chunk) => (received = Buffer.concat([received, chunk])));
  socket.on('error', () => {}); // a reset is one way of being closed
  const close = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void close.then(() => (closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  if (first) socket.write(first);
  return {
    socket,
    received: () => received,
    closedWithin: (ms) => (closed ? Promise.resolve(true) : Promise.race([close.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))])),
  };
}

/** Connect as `clientId` and wait for the CONNACK (and the SUBACK, when subscribing). */
async function rawSession(url: string, clientId: string, subscribe?: { filter: string; qos: 0 | 1 }): Promise<RawClient> {
  const raw = await rawConnect(url, CONNECT(clientId));
  if (subscribe) raw.socket.write(SUBSCRIBE(subscribe.filter, subscribe.qos));
  const expected = subscribe ? 4 + 5 : 4; // CONNACK, then a SUBACK for one filter
  await expect.poll(() => raw.received().length, { timeout: 5000 }).toBeGreaterThanOrEqual(expected);
  expect(raw.received()[3]).toBe(0); // connection accepted
  return raw;
}

const { connect, closeAll } = clientPool();

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await closeAll();
});
afterAll(stopAll);

describe('a subscriber that stops reading', () => {
  const BATCHES = 25;
  const PER_BATCH = 16; // of 64 KiB: 1 MiB a batch, 25 MiB in all
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBroker({ BROKER_MAX_PACKET_BYTES: String(256 * 1024), BROKER_MAX_CLIENT_BACKLOG_BYTES: String(4 * 1024 * 1024) });
  });

  it('holds up no one: a subscriber that reads gets every message at once, and the stalled one is cut off naming its client id', async () => {
    const stalled = await rawSession(broker.url, 'stalled-viewer', { filter: 'run/#', qos: 1 });
    stalled.socket.pause();
    const watcher = await connect(broker.url, { clientId: 'steady-watcher' });
    await watcher.subscribe('run/#');
    const publisher = await connect(broker.url);

    // 25 MiB is more than the kernel's socket buffers on both ends hold, so the broker is left holding what the
    // stalled client does not read. Before the limit, every delivery then waited for it to drain, for 60 s (Aedes'
    // drainTimeout), and so did the watcher and the publisher's PUBACKs. A batch at a time, each one read by the
    // watcher before the next is sent: a client that keeps up is never over the bound, however much passes.
    const padding = 'x'.repeat(64 * 1024);
    for (let batch = 0; batch < BATCHES; batch++) {
      const seqs = Array.from({ length: PER_BATCH }, (_, i) => batch * PER_BATCH + i);
      await Promise.all(seqs.map((seq) => publisher.publish('run/flood/events', { seq, padding })));
      // Far less than the 60 s everyone used to wait, with room for a loaded machine.
      await watcher.waitFor('run/flood/events', (m) => m.json().seq === seqs.at(-1), 15_000);
    }
    expect(watcher.messages('run/flood/events').map((m) => m.json().seq)).toEqual(Array.from({ length: BATCHES * PER_BATCH }, (_, seq) => seq));

    await broker.waitFor(/ warn cut off a client that stopped reading: more than BROKER_MAX_CLIENT_BACKLOG_BYTES waited to be sent to it clientId=stalled-viewer backlogBytes=\d+ limitBytes=4194304/);
    await broker.waitFor(/ debug client disconnected clientId=stalled-viewer/);
    expect(broker.output()).not.toMatch(/cut off a client .*clientId=steady-watcher/);
    expect(watcher.client.connected).toBe(true);
    // Once it reads again it finds the end of what was sent before the cut, then the connection's end.
    stalled.socket.resume();
    expect(await stalled.closedWithin(10_000)).toBe(true);
  }, 120_000);
});

describe('packet size and topics', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBroker({ BROKER_MAX_PACKET_BYTES: '65536', BROKER_MAX_CLIENT_BACKLOG_BYTES: '1048576' });
  });

  it('closes a connection whose packet announces more than BROKER_MAX_PACKET_BYTES, before the body arrives', async () => {
    const raw = await rawSession(broker.url, 'oversized');
    // The fixed header of a 100 MB PUBLISH, and the start of its topic: the rest is never sent.
    raw.socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(100_000_000), utf8('run/big/create')]));
    expect(await raw.closedWithin(5000)).toBe(true);
    await broker.waitFor(/ warn client error clientId=oversized .*publish packet of 100000000 bytes is larger than this broker's limit of 65536 bytes \(BROKER_MAX_PACKET_BYTES\)/);
  });

  it('delivers a packet just under the limit', async () => {
    const subscriber = await connect(broker.url);
    await subscriber.subscribe('run/near-limit/create');
    await subscriber.publish('run/near-limit/create', 'x'.repeat(65_000));
    expect((await subscriber.waitFor('run/near-limit/create')).text).toHaveLength(65_000);
  });

  it('applies the same limit over WebSocket', async () => {
    const client = await connect(broker.wsUrl, { reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => client.client.once('close', () => resolve()));
    client.client.publish('run/big/create', 'x'.repeat(100_000), { qos: 0 });
    await closed;
    expect(client.client.connected).toBe(false);
  });

  describe('closes the connection at a NUL (U+0000) in', () => {
    it('a PUBLISH topic, and delivers nothing', async () => {
      const watcher = await connect(broker.url);
      await watcher.subscribe('run/#');
      const raw = await rawSession(broker.url, 'nul-publisher');
      raw.socket.write(PUBLISH('run/a\u0000b/actions', 'resume'));
      expect(await raw.closedWithin(5000)).toBe(true);
      // The topic is quoted as JSON (the NUL as \u0000) inside the log line's own quoting.
      await broker.waitFor(/ warn client error clientId=nul-publisher .*publish topic .*"run\/a\\+u0000b\/actions.*" contains a NUL character \(U\+0000\), which MQTT 3\.1\.1 forbids/);
      // Sent after the refused one, on the same filter: when it arrives, the refused one would have.
      await watcher.publish('run/after/actions', 'resume');
      await watcher.waitFor('run/after/actions');
      expect(watcher.messages('run/#').map((m) => m.topic)).toEqual(['run/after/actions']);
    });

    it('a SUBSCRIBE topic filter', async () => {
      const raw = await rawSession(broker.url, 'nul-subscriber');
      raw.socket.write(SUBSCRIBE('run/\u0000/#', 1));
      expect(await raw.closedWithin(5000)).toBe(true);
      await broker.waitFor(/clientId=nul-subscriber .*subscribe topic .* contains a NUL character/);
    });

    it('an UNSUBSCRIBE topic filter', async () => {
      const raw = await rawSession(broker.url, 'nul-unsubscriber');
      raw.socket.write(UNSUBSCRIBE('run/\u0000/#'));
      expect(await raw.closedWithin(5000)).toBe(true);
      await broker.waitFor(/clientId=nul-unsubscriber .*unsubscribe topic .* contains a NUL character/);
    });

    it('a will topic, refused before the CONNACK', async () => {
      const raw = await rawConnect(broker.url, CONNECT('nul-will', { topic: 'engine/\u0000/online', message: 'false' }));
      expect(await raw.closedWithin(5000)).toBe(true);
      expect(raw.received()).toHaveLength(0);
      await broker.waitFor(/ warn connection error .*connect topic .*engine\/\\+u0000\/online.* contains a NUL character/);
    });
  });
});
