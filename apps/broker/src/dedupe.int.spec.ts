// Aedes drops a message that reaches a client after one its broker numbered later (dedupe.ts). On Redis, a QoS 1
// message for a persistent subscriber is written to Redis before it goes out, so a QoS 0 one published right after it
// overtakes it: the engine (a persistent session) lost run creates that way. And the check's real job still holds: a
// message matching two subscriptions of one client reaches it once.
import { afterAll, describe, expect, it } from 'vitest';
import { connectTestClient, flushRedisDb, requirement, startBroker, stopAll, tcpReachable } from '@labrun/testkit';

const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');
const DB = 2; // a database of its own: the other Redis specs use 3..15

afterAll(stopAll);

describe.skipIf(!hasRedis)('messages overtaken on their way to a client, on Redis', () => {
  it('a persistent subscriber gets every QoS 1 message, though a QoS 0 one published after each arrives first', async () => {
    await flushRedisDb(DB);
    const broker = await startBroker({ BROKER_REDIS_URL: `redis://127.0.0.1:6379/${DB}` });
    const subscriber = await connectTestClient(broker.url, { clientId: 'dedupe-persistent', clean: false });
    await subscriber.client.subscribeAsync({ 'order/+/create': { qos: 1 }, 'order/+/event': { qos: 0 } });
    const publisher = await connectTestClient(broker.url);
    for (let i = 0; i < 50; i++) {
      await publisher.publish('order/r/create', { i }, { qos: 1 });
      await publisher.publish('order/r/event', { i }, { qos: 0 });
    }
    await expect.poll(() => subscriber.messages('order/r/event').length, { timeout: 10_000 }).toBe(50);
    await expect.poll(() => subscriber.messages('order/r/create').length, { timeout: 10_000 }).toBe(50);
    expect(new Set(subscriber.messages('order/r/create').map((m) => m.json().i)).size).toBe(50);
    await subscriber.client.endAsync();
    await (await connectTestClient(broker.url, { clientId: 'dedupe-persistent', clean: true })).close();
    await publisher.close();
    await flushRedisDb(DB);
  });
});

describe('a message matching two subscriptions of one client', () => {
  it('reaches it once, at QoS 0 and at QoS 1', async () => {
    const broker = await startBroker();
    const client = await connectTestClient(broker.url);
    await client.client.subscribeAsync({ 'twice/#': { qos: 1 }, 'twice/+/status': { qos: 1 }, 'zero/#': { qos: 0 }, 'zero/+/status': { qos: 0 } });
    const publisher = await connectTestClient(broker.url);
    for (let i = 0; i < 5; i++) {
      await publisher.publish('twice/r/status', { i }, { qos: 1 });
      await publisher.publish('zero/r/status', { i }, { qos: 0 });
    }
    await expect.poll(() => client.messages('zero/r/status').length, { timeout: 5000 }).toBe(5);
    await expect.poll(() => client.messages('twice/r/status').length, { timeout: 5000 }).toBe(5);
    await new Promise((r) => setTimeout(r, 300));
    expect(client.messages('twice/r/status').map((m) => m.json().i)).toEqual([0, 1, 2, 3, 4]);
    expect(client.messages('zero/r/status').map((m) => m.json().i)).toEqual([0, 1, 2, 3, 4]);
    await client.close();
    await publisher.close();
  });
});
