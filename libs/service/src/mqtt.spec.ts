// connectService against a real (in-process) Aedes broker: the online flag, the last will, and reconnection.
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { Writable } from 'node:stream';
import { closeService, coalesceWrites, connectService, loggableUrl, mqttTraceWanted } from './mqtt.js';
import { createLogger } from './log.js';

const log = createLogger('test', 'error');

async function startAedes(port = 0, options: Parameters<typeof Aedes.createBroker>[0] = {}) {
  const broker = await Aedes.createBroker(options);
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const stop = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `mqtt://127.0.0.1:${address.port}`, port: address.port, stop, broker };
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
    // With DEBUG=aedes* mqtt.js gets a silent log instead of tracing each packet through `debug`.
    vi.stubEnv('DEBUG', 'aedes*');
    const connection = connectService({ url: broker.url, clientId: 'svc-1', onlineTopic: 'svc/1/online', log, onConnect: () => void calls.push('connect') });
    vi.unstubAllEnvs();
    expect([typeof connection.receiver.options.log, typeof connection.publisher.options.log]).toEqual(['function', 'function']);
    await new Promise((r) => connection.receiver.once('connect', r));
    await expect.poll(() => retained(broker.url, 'svc/1/online')).toBe('true');
    expect(calls).toEqual(['connect']);
    await closeService(connection, 'svc/1/online');
    expect(await retained(broker.url, 'svc/1/online')).toBe('false');
  });

  it('leaves online=false behind as its last will when the connection dies', async () => {
    const broker = await startAedes();
    cleanups.push(broker.stop);
    const { receiver, publisher } = connectService({ url: broker.url, clientId: 'svc-2', onlineTopic: 'svc/2/online', log, onConnect: () => {} });
    await expect.poll(() => retained(broker.url, 'svc/2/online')).toBe('true');
    receiver.options.reconnectPeriod = 0;
    (receiver.stream as net.Socket).destroy(); // the process vanished: no clean disconnect
    await expect.poll(() => retained(broker.url, 'svc/2/online')).toBe('false');
    await receiver.endAsync(true);
    await publisher.endAsync(true);
  });

  it('reconnects within 2 s of the broker coming back, and runs onConnect again', async () => {
    const first = await startAedes();
    let connects = 0;
    const connection = connectService({ url: first.url, clientId: 'svc-3', onlineTopic: 'svc/3/online', log, onConnect: () => void connects++ });
    cleanups.push(async () => {
      await connection.receiver.endAsync(true);
      await connection.publisher.endAsync(true);
    });
    await expect.poll(() => connects).toBe(1);
    await first.stop();
    await new Promise((r) => setTimeout(r, 2500)); // several failed attempts: the backoff has grown to its cap
    const second = await startAedes(first.port);
    cleanups.push(second.stop);
    const back = Date.now();
    await expect.poll(() => connects, { timeout: 5000 }).toBe(2);
    expect(Date.now() - back).toBeLessThan(2500);
    expect(await retained(second.url, 'svc/3/online')).toBe('true');
    await expect.poll(() => connection.connected).toBe(true); // the publishing connection is back too
  });

  it('receives on one connection and publishes on another, so a broker with Nagle on does not stall its deliveries', async () => {
    const { broker, url, stop } = await startAedes();
    cleanups.push(stop);
    const published: string[] = [];
    broker.on('publish', (packet, client) => {
      if (client) published.push(`${client.id} ${packet.topic}`);
    });
    // An echo service: what arrives on svc/4/in is answered on svc/4/out.
    const connection = connectService({
      url,
      clientId: 'svc-4',
      onlineTopic: 'svc/4/online',
      log,
      onConnect: ({ receiver }) => receiver.subscribeAsync('svc/4/in', { qos: 1 }).then(() => undefined),
    });
    connection.receiver.on('message', (_topic, payload) => connection.publisher.publish('svc/4/out', payload, { qos: 1 }));
    await expect.poll(() => retained(url, 'svc/4/online')).toBe('true');
    const peer = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'peer' });
    await peer.subscribeAsync('svc/4/out', { qos: 1 });
    const answer = new Promise<string>((resolve) => peer.on('message', (_t, payload) => resolve(payload.toString())));
    await peer.publishAsync('svc/4/in', 'ping', { qos: 1 });
    expect(await answer).toBe('ping');
    await peer.endAsync();
    await closeService(connection, 'svc/4/online');
    // The receiving connection publishes nothing but its own online flag; everything else leaves by the other one.
    expect(published).toEqual(['svc-4 svc/4/online', 'peer svc/4/in', 'svc-4-pub svc/4/out', 'svc-4 svc/4/online']);
  });

  it('announces online only once its publishing connection is up too, however late the broker lets that one in', async () => {
    const { broker, url, stop } = await startAedes(0, {
      // A broker slow to check one login (a password hash, a busy auth service): the publisher waits 400 ms.
      authenticate: (client, _user, _password, done) => setTimeout(() => done(null, true), client.id.endsWith('-pub') ? 400 : 0),
    });
    cleanups.push(stop);
    const publisherAtOnline: boolean[] = [];
    let connection: ReturnType<typeof connectService> | undefined;
    broker.on('publish', (packet) => {
      if (packet.topic === 'svc/5/online' && packet.payload.toString() === 'true') publisherAtOnline.push(connection!.publisher.connected);
    });
    connection = connectService({ url, clientId: 'svc-5', onlineTopic: 'svc/5/online', log, onConnect: () => {} });
    cleanups.push(() => closeService(connection!, 'svc/5/online'));
    await expect.poll(() => retained(url, 'svc/5/online')).toBe('true');
    expect(publisherAtOnline).toEqual([true]);
    expect(connection.connected).toBe(true);
  });
});

describe('loggableUrl', () => {
  it('drops the user name and password from a broker URL, and leaves any other URL as it is', () => {
    expect(loggableUrl('mqtt://ana:s3cret@broker.lab:1883')).toBe('mqtt://broker.lab:1883');
    expect(loggableUrl('mqtts://ana@broker.lab')).toBe('mqtts://broker.lab');
    expect(loggableUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
    expect(loggableUrl('not a url: pass')).toBe('(an invalid URL)');
  });
});

describe('mqttTraceWanted', () => {
  it('reads DEBUG as the debug module does: names, * wildcards, and - exclusions', () => {
    expect([undefined, '', 'aedes*', 'labrun', 'mqttjs:tcp', '(', '*,-mqttjs*', 'mqttjs* -mqttjs:client'].map(mqttTraceWanted)).toEqual([false, false, false, false, false, false, false, false]);
    expect(['*', 'mqttjs*', 'mqttjs:client', 'aedes*,mqttjs*', 'aedes* mqttjs:*'].map(mqttTraceWanted)).toEqual([true, true, true, true, true]);
  });
});

describe('coalesceWrites', () => {
  /** A stream that records each system-call-like write: what it carried. */
  const recorder = (highWaterMark = 16_384) => {
    const writes: string[] = [];
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark,
      write(chunk: Buffer, _encoding, callback) {
        writes.push(chunk.toString());
        // A slow socket when asked for one: the write completes only when released.
        if (highWaterMark < 16_384) release = () => callback();
        else callback();
      },
    });
    return { stream, writes, release: () => release?.() };
  };
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it("sends the writes of one turn of the event loop as one, and a later turn's on their own", async () => {
    const { stream, writes } = recorder();
    coalesceWrites(stream);
    stream.write('a');
    stream.write(Buffer.from('b'));
    stream.write('c', 'utf8');
    expect(writes).toEqual([]); // held until the turn ends
    await turn();
    expect(writes).toEqual(['abc']);
    stream.write('d');
    await turn();
    expect(writes).toEqual(['abc', 'd']);
  });

  it('without it, each write is sent by itself', () => {
    const { stream, writes } = recorder();
    stream.write('a');
    stream.write('b');
    expect(writes).toEqual(['a', 'b']);
  });

  it("calls each write's callback once the joined write is done", async () => {
    const { stream } = recorder();
    coalesceWrites(stream);
    const done: string[] = [];
    stream.write('a', () => done.push('a'));
    stream.write('b', 'utf8', () => done.push('b'));
    expect(done).toEqual([]);
    await turn();
    await turn();
    expect(done).toEqual(['a', 'b']);
  });

  it('says false once the stream and what waits reach the high-water mark, and then sends drain', async () => {
    const { stream, writes, release } = recorder(4);
    coalesceWrites(stream);
    expect(stream.write('ab')).toBe(true);
    expect(stream.write('cd')).toBe(false); // 4 bytes waiting: the writer should wait for drain
    const drained = new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    await turn();
    expect(writes).toEqual(['abcd']);
    release();
    await drained;
  });

  it('sends drain even when the joined write itself leaves room (the stream emptied meanwhile)', async () => {
    const { stream, writes } = recorder();
    coalesceWrites(stream);
    // As if the socket had 16 KiB queued when the writer asked, and then sent it all.
    Object.defineProperty(stream, 'writableLength', { value: 16_384, configurable: true });
    expect(stream.write('a')).toBe(false);
    Object.defineProperty(stream, 'writableLength', { value: 0, configurable: true });
    const drained = new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    await turn();
    expect(writes).toEqual(['a']);
    await drained;
  });

  it('sends what waits before it ends the stream', async () => {
    const { stream, writes } = recorder();
    coalesceWrites(stream);
    stream.write('last');
    stream.end('bye');
    await new Promise((resolve) => stream.once('finish', resolve));
    expect(writes).toEqual(['last', 'bye']);
  });
});
