// A topic with an empty level (`run//create`, a run id left out) is delivered like any other and costs no one their
// connection: not a persistent QoS 1 subscriber (in memory or on Redis), and not the engine (see empty-levels.ts).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clientPool, flushRedisDb, requirement, startBroker, startService, stopAll, tcpReachable, type BrokerProcess } from '@labrun/testkit';

const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');

const { connect, closeAll } = clientPool();
afterEach(closeAll);
afterAll(stopAll);

/** Twenty mistyped publishes on the engine's topics, then a good one: a persistent subscriber stays connected throughout. */
async function mistypedTopicsKeepThePersistentSubscriber(broker: BrokerProcess, clientId: string): Promise<void> {
  const subscriber = await connect(broker.url, { clientId, clean: false, reconnectPeriod: 0 });
  let disconnects = 0;
  subscriber.client.on('close', () => disconnects++);
  await subscriber.subscribe(['run/+/create', 'run/+/actions']);
  const publisher = await connect(broker.url);
  for (let i = 0; i < 10; i++) {
    await publisher.publish('run//create', `{"n": ${i}}`);
    await publisher.publish('run//actions', 'resume');
  }
  await publisher.publish('run/r-after/actions', 'resume');
  await subscriber.waitFor('run/r-after/actions');
  // Mosquitto's behaviour too: `+` matches an empty level ([MQTT-4.7.1-3]), so they are delivered, in order.
  expect(subscriber.messages('run/+/create')).toHaveLength(10);
  expect(subscriber.messages('run/+/actions').map((m) => m.topic)).toEqual([...Array(10).fill('run//actions'), 'run/r-after/actions']);
  expect(disconnects).toBe(0);
  expect(subscriber.client.connected).toBe(true);
  expect(broker.output()).not.toMatch(/no such packet/);
}

describe('a topic with an empty level', () => {
  it('is delivered to a persistent QoS 1 subscriber, which stays connected', async () => {
    await mistypedTopicsKeepThePersistentSubscriber(await startBroker(), 'persistent-memory');
  });

  it('acknowledges it in the persistent session: nothing is sent again when the subscriber comes back', async () => {
    const broker = await startBroker();
    const first = await connect(broker.url, { clientId: 'comes-back', clean: false });
    await first.subscribe('run/+/create');
    const publisher = await connect(broker.url);
    await publisher.publish('run//create', 'mistyped');
    await first.waitFor('run//create');
    await first.close();
    const again = await connect(broker.url, { clientId: 'comes-back', clean: false });
    await publisher.publish('run/r-later/create', 'later');
    await again.waitFor('run/r-later/create');
    expect(again.received.map((m) => m.topic)).toEqual(['run/r-later/create']);
  });

  it.skipIf(!hasRedis)('is delivered the same on Redis', async () => {
    const db = 8; // a database of its own: redis.int.spec.ts, which may run at the same time, uses 9..14, the engine's 3..7
    await flushRedisDb(db);
    try {
      await mistypedTopicsKeepThePersistentSubscriber(await startBroker({ BROKER_REDIS_URL: `redis://127.0.0.1:6379/${db}` }), 'persistent-redis');
    } finally {
      await closeAll();
      await stopAll();
      await flushRedisDb(db);
    }
  });

  it('leaves the engine connected: it ignores such a topic with a log line, and runs go on', async () => {
    const broker = await startBroker();
    const engine = await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'e-empty-levels', DEVICE_ID: 'sim-empty-levels' });
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: 'sim-empty-levels' });
    const client = await connect(broker.url);
    await client.subscribe('run/after-mistakes/status');
    for (let i = 0; i < 10; i++) {
      await client.publish('run//create', { protocol: { schemaVersion: 1, metadata: { name: 'no id' }, commands: [{ type: 'home' }] } });
      await client.publish('run//actions', 'resume');
    }
    await expect.poll(() => engine.output().match(/ignored a message on a topic that is not a valid run topic/g)?.length ?? 0).toBe(20);
    await client.publish('run/after-mistakes/create', { protocol: { schemaVersion: 1, metadata: { name: 'after' }, commands: [{ type: 'comment', params: { message: 'hi' } }] } });
    await client.publish('run/after-mistakes/actions', 'play');
    await client.waitFor('run/after-mistakes/status', (m) => m.json().status === 'succeeded', 15_000);
    expect(engine.output()).not.toMatch(/disconnected from broker/);
    expect(broker.output()).not.toMatch(/client error clientId=labrun-engine/);
  }, 60_000);
});
