// The broker on Redis: state that survives a restart, and a cluster of brokers sharing one Redis. Uses the Redis
// server every machine here runs on 127.0.0.1:6379 (a database of its own, emptied first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestClient, requirement, startBroker, startTcpProxy, stopAll, tcpReachable, flushRedisDb } from '@labrun/testkit';

const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');

describe.skipIf(!hasRedis)('the broker on Redis', () => {
  const db = 9 + Math.floor(Math.random() * 6); // 9..14
  const redisUrl = `redis://127.0.0.1:6379/${db}`;
  beforeAll(() => flushRedisDb(db));
  afterAll(async () => {
    await stopAll();
    await flushRedisDb(db);
  });

  it('two brokers on one Redis form a cluster: a message published on one reaches a subscriber on the other', async () => {
    const a = await startBroker({ BROKER_REDIS_URL: redisUrl });
    const b = await startBroker({ BROKER_REDIS_URL: redisUrl });
    const subscriber = await connectTestClient(a.url);
    await subscriber.subscribe('run/cluster/status');
    const publisher = await connectTestClient(b.url);
    await publisher.publish('run/cluster/status', '{"status":"paused"}');
    expect((await subscriber.waitFor('run/cluster/status')).text).toBe('{"status":"paused"}');
    await subscriber.close();
    await publisher.close();
    await a.stop();
    await b.stop();
  });

  it('delivers every message of a burst mixing retained and plain ones, on the broker they were published to and across the cluster', async () => {
    // Aedes numbers messages as it starts publishing them and clients drop one numbered below what they already had:
    // a retained message, slowed by its write to Redis, used to arrive after the plain one published next, and be
    // dropped (19 of 20 arrived on the same broker, 13 of 20 on the other). See retainWithoutDelay in redis.ts.
    const a = await startBroker({ BROKER_REDIS_URL: redisUrl });
    const b = await startBroker({ BROKER_REDIS_URL: redisUrl });
    const [near, far, publisher] = await Promise.all([connectTestClient(a.url), connectTestClient(b.url), connectTestClient(a.url)]);
    await near.subscribe(['burst/+/status', 'burst/+/events']);
    await far.subscribe(['burst/+/status', 'burst/+/events']);
    for (let i = 0; i < 50; i++) {
      await publisher.publish('burst/r/status', { i }, { retain: true });
      await publisher.publish('burst/r/events', { i });
    }
    for (const client of [near, far]) {
      await expect.poll(() => client.messages('burst/r/events').length, { timeout: 10_000 }).toBe(50);
      await new Promise((r) => setTimeout(r, 300));
      expect(client.messages('burst/r/status').map((m) => m.json().i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    // And the last one is what a subscriber that comes later gets.
    const late = await connectTestClient(b.url);
    await late.subscribe('burst/r/status');
    expect((await late.waitFor('burst/r/status')).json()).toEqual({ i: 49 });
    await Promise.all([near.close(), far.close(), publisher.close(), late.close()]);
    await a.stop();
    await b.stop();
  });

  it('rides out Redis going away: it stays up, says so once, and when Redis is back messages cross the cluster again both ways', async () => {
    // mqemitter-redis re-emits its connections' errors where nobody listened: the first refused reconnect killed the broker.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    try {
      const a = await startBroker({ BROKER_REDIS_URL: `redis://127.0.0.1:${proxy.port}/${db}` });
      const b = await startBroker({ BROKER_REDIS_URL: redisUrl });
      const [onA, onB] = await Promise.all([connectTestClient(a.url), connectTestClient(b.url)]);
      await onA.subscribe('outage/from-b');
      await onB.subscribe('outage/from-a');
      await proxy.cut();
      await a.waitFor(/lost its connection to Redis/);
      // Reconnects are refused for a while (ioredis tries again after 50 ms, 100 ms, … up to 2 s).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(a.proc.exitCode).toBeNull();
      expect(a.output().match(/lost its connection to Redis/g)!.length).toBeLessThanOrEqual(3); // once per connection, not per attempt
      await proxy.restore();
      await expect.poll(() => a.output().match(/the connection to Redis is back/g)?.length ?? 0, { timeout: 15_000 }).toBe(3);
      // Across the cluster both ways: a's publisher connection, and its subscriber connection subscribed again.
      let n = 0;
      await expect
        .poll(
          async () => {
            n++;
            await onA.publish('outage/from-a', `${n}`);
            await onB.publish('outage/from-b', `${n}`);
            return onB.messages('outage/from-a').length > 0 && onA.messages('outage/from-b').length > 0;
          },
          { timeout: 10_000, interval: 200 },
        )
        .toBe(true);
      await Promise.all([onA.close(), onB.close()]);
      await a.stop();
      await b.stop();
    } finally {
      await proxy.close();
    }
  });

  it('stops by itself on SIGTERM, its Redis connections closed, with a persistent session connected', async () => {
    const broker = await startBroker({ BROKER_REDIS_URL: redisUrl });
    const client = await connectTestClient(broker.url, { clientId: 'stopping-redis', clean: false });
    await client.subscribe('run/+/actions');
    broker.proc.kill('SIGTERM');
    // A broker whose shutdown hangs gives up after 5 s and exits 1 (libs/service's lifecycle); a clean one exits 0.
    // The wait is longer than that deadline: a slow machine running other suites beside this one can take over 2 s.
    const code = await Promise.race([broker.exited(), new Promise((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000))]);
    expect(code).toBe(0);
    await client.close();
  });

  it('a restart keeps retained messages and the QoS 1 messages queued for an absent persistent session', async () => {
    const first = await startBroker({ BROKER_REDIS_URL: redisUrl });
    const port = new URL(first.url).port;
    // The engine's way: a persistent session subscribed to actions, then away.
    const engine = await connectTestClient(first.url, { clientId: 'engine-redis', clean: false });
    await engine.subscribe('run/+/actions');
    await engine.client.endAsync();
    const client = await connectTestClient(first.url);
    await client.publish('run/r-1/status', '{"status":"paused"}', { retain: true });
    await client.publish('run/r-1/actions', 'resume'); // queued for the absent engine
    await client.close();

    await first.stop();
    const second = await startBroker({ BROKER_REDIS_URL: redisUrl, BROKER_PORT: port });
    const back = await connectTestClient(second.url, { clientId: 'engine-redis', clean: false });
    expect((await back.waitFor('run/r-1/actions')).text).toBe('resume');
    await back.subscribe('run/r-1/status');
    const retained = await back.waitFor('run/r-1/status');
    expect(retained).toMatchObject({ text: '{"status":"paused"}', retain: true });
    await back.close();
  });

  it('a SIGTERM right after acknowledging QoS 1 messages for an absent persistent session keeps them all, on a slow Redis', async () => {
    // Aedes acknowledges a QoS 1 PUBLISH before it stores it for the sessions that are away (two round trips to
    // Redis): a broker stopped in between lost what it had acknowledged.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 }, { delayMs: 100 });
    try {
      const first = await startBroker({ BROKER_REDIS_URL: `redis://127.0.0.1:${proxy.port}/${db}` });
      const port = new URL(first.url).port;
      const engine = await connectTestClient(first.url, { clientId: 'engine-sigterm', clean: false });
      await engine.subscribe('run/+/actions');
      await engine.client.endAsync();
      const client = await connectTestClient(first.url);
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.publish(`run/r-${i}/actions`, 'resume')));
      first.proc.kill('SIGTERM');
      expect(await first.exited()).toBe(0);
      await client.close();
      const second = await startBroker({ BROKER_REDIS_URL: redisUrl, BROKER_PORT: port });
      const back = await connectTestClient(second.url, { clientId: 'engine-sigterm', clean: false });
      await expect.poll(() => back.messages('run/+/actions').length, { timeout: 10_000 }).toBe(10);
      await back.close();
      await second.stop();
    } finally {
      await proxy.close();
    }
  });

  it('stops cleanly on SIGTERM while Redis is away', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    try {
      const broker = await startBroker({ BROKER_REDIS_URL: `redis://127.0.0.1:${proxy.port}/${db}` });
      const client = await connectTestClient(broker.url);
      await proxy.cut();
      await broker.waitFor(/lost its connection to Redis/);
      broker.proc.kill('SIGTERM');
      const code = await broker.exited();
      expect(broker.output()).not.toMatch(/Unhandled|Error: /);
      expect(code).toBe(0);
      await client.close();
    } finally {
      await proxy.close();
    }
  });

  it('answers a persistent session that subscribes to several filters in one packet (aedes#458 on Redis)', async () => {
    const broker = await startBroker({ BROKER_REDIS_URL: redisUrl });
    const client = await connectTestClient(broker.url, { clientId: 'many-filters', clean: false });
    const granted = await client.client.subscribeAsync({ 'run/+/create': { qos: 1 }, 'run/+/actions': { qos: 1 }, 'hw/+/state': { qos: 1 } });
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1]);
    await client.close();
  });

  it('without Redis the same restart loses them (what BROKER_REDIS_URL is for)', async () => {
    const first = await startBroker();
    const port = new URL(first.url).port;
    const engine = await connectTestClient(first.url, { clientId: 'engine-memory', clean: false });
    await engine.subscribe('run/+/actions');
    await engine.client.endAsync();
    const client = await connectTestClient(first.url);
    await client.publish('run/r-1/actions', 'resume');
    await client.close();
    await first.stop();
    const second = await startBroker({ BROKER_PORT: port });
    const back = await connectTestClient(second.url, { clientId: 'engine-memory', clean: false });
    await expect(back.waitFor('run/r-1/actions', () => true, 1500)).rejects.toThrow(/no message/);
    await back.close();
  });

  it('refuses a BROKER_REDIS_URL that is not a Redis URL, naming the variable', async () => {
    await expect(startBroker({ BROKER_REDIS_URL: 'http://127.0.0.1:6379' })).rejects.toThrow(/BROKER_REDIS_URL="http:\/\/127\.0\.0\.1:6379": expected a Redis URL/);
  });
});
