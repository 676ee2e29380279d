// Keeping the broker's state in Redis: sessions (with the QoS 1 messages queued for absent clients),
// subscriptions and retained messages survive a broker restart, and brokers that share one Redis form a cluster
// (messages published on one reach subscribers on the others) — how a lab outgrows one broker process.
import type { EventEmitter } from 'node:events';
import type { AedesOptions } from 'aedes';
import aedesPersistenceRedis from 'aedes-persistence-redis';
import { Redis, type RedisOptions } from 'ioredis';
import redisEmitter from 'mqemitter-redis';

export interface RedisState {
  options: Pick<AedesOptions, 'persistence' | 'mq'>;
  /** Close the Redis connections (Aedes's own close does not). */
  close(): Promise<void>;
}

/** The broker's three Redis connections, as its log lines and metrics name them. */
export const REDIS_CONNECTIONS = ['store', 'subscribe', 'publish'] as const;
export type RedisConnection = (typeof REDIS_CONNECTIONS)[number];

export interface RedisEvents {
  /** A retained message was delivered but could not be written to Redis. */
  retainedWriteFailed(topic: string, error: Error): void;
  /** One of the connections (`store`, `subscribe`, `publish`) failed; it reconnects by itself. Said once per outage. */
  connectionLost(connection: RedisConnection, error: Error): void;
  /** The connection is back after connectionLost. */
  connectionBack(connection: RedisConnection): void;
}

/** The connection options for a `redis://` or `rediss://` URL (user, password and database included). */
function redisOptions(url: string): RedisOptions {
  const { hostname, port, password, username, pathname, protocol } = new URL(url);
  return {
    host: hostname,
    port: Number(port || 6379),
    db: Number(pathname.slice(1) || 0),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(username ? { username: decodeURIComponent(username) } : {}),
    ...(protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function redisState(url: string, events: RedisEvents): RedisState {
  const options = redisOptions(url);
  // The three connections are made here, not by the libraries, so that each has an error listener: mqemitter-redis
  // re-emits its connections' errors on an emitter nobody listens to, and a Redis that went away (or a failed ready
  // check, below) crashed the broker with an unhandled 'error'.
  const store = new Redis(options);
  // ioredis 5.8.2 and later write a SUBSCRIBE issued between the TCP connection and the ready check at once (it may
  // be sent while Redis loads), and the ready check's INFO that follows is then refused in subscriber mode — a fatal
  // error (redis/ioredis#2037). A client subscribing while the broker's subscriber connection was starting made it
  // crash. That connection only subscribes, which Redis allows while it loads, so it needs no ready check.
  const subscriber = new Redis({ ...options, enableReadyCheck: false });
  // What mqemitter-redis sets on the connections it makes: publishes of one turn go in one write.
  const publisher = new Redis({ ...options, enableAutoPipelining: true });
  const connections: Record<RedisConnection, Redis> = { store, subscribe: subscriber, publish: publisher };
  for (const name of REDIS_CONNECTIONS) {
    const connection = connections[name];
    let lost = false;
    connection.on('error', (error: Error) => {
      if (lost) return; // ioredis retries with a growing delay (up to 2 s) and reports every refused attempt
      lost = true;
      events.connectionLost(name, error);
    });
    connection.on('ready', () => {
      if (!lost) return;
      lost = false;
      events.connectionBack(name);
    });
  }
  const persistence = retainWithoutDelay(coalesceAddSubscriptions(aedesPersistenceRedis({ conn: store })), events.retainedWriteFailed);
  // mqemitter-redis's close() quits both connections, waits for their 'end', and does not handle QUIT's answer: one
  // that dropped before Redis answered made an unhandled rejection, and the broker crashed while it stopped; and
  // while Redis was away, QUIT waited in the offline queue and stopping hung until the 5 s deadline killed it.
  for (const connection of [subscriber, publisher]) {
    const quit = connection.quit.bind(connection);
    connection.quit = (...args: Parameters<Redis['quit']>) => {
      if (connection.status === 'ready') {
        const answer = quit(...args);
        answer.catch(() => {});
        return answer;
      }
      // Between two tries there is no socket to close, so ioredis sends no 'end' of its own.
      const betweenTries = connection.status === 'reconnecting';
      connection.disconnect();
      if (betweenTries) process.nextTick(() => connection.emit('end'));
      return Promise.resolve('OK');
    };
  }
  const mq = redisEmitter({ subConn: subscriber, pubConn: publisher });
  // Its connections' errors are reported above; this only keeps them from being thrown.
  (mq as unknown as { state: EventEmitter }).state.on('error', () => {});
  return {
    options: { persistence, mq },
    // The promise form: the callback form waits for a 'ready' event that only its callback-style setup sends,
    // and Aedes 1.2 sets persistence up with the async one — so shutdown hung until the process was killed.
    // Aedes closes the emitter (and with it the subscriber and publisher connections) itself. destroy() also tells
    // the other brokers, through the subscriber connection: while Redis is away that waits for ever, so the store
    // is then just dropped.
    close: async () => {
      if (store.status === 'ready' && subscriber.status !== 'reconnecting') {
        const destroyed = persistence.destroy();
        const timer = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
        await Promise.race([destroyed.catch(() => {}), timer]);
      }
      store.disconnect();
    },
  };
}

/**
 * Aedes 1.2 numbers each message as it starts publishing it (brokerCounter), and every client drops a message whose
 * number is not above the highest it has had from that broker (lib/client.js dedupe(), meant for a message matching
 * two of its subscriptions). A retained message is written to the store before it goes out: on Redis that is a round
 * trip, while a plain message published after it goes out at once — and the retained one, numbered lower, arriving
 * second, is dropped by every subscriber. (A QoS 1 publisher is acknowledged before Aedes publishes at all, so it
 * sends its next message meanwhile.) So a status published retained right before an event was lost to live
 * subscribers, one in three under load. The write is therefore started, in order on its Redis connection, and not
 * waited for: the message goes out in its turn. A write that fails is reported; the message was delivered anyway.
 */
function retainWithoutDelay<P extends object>(persistence: P, onFailed: (topic: string, error: Error) => void): P {
  const target = persistence as unknown as { storeRetained(packet: { topic: string }): Promise<void> };
  const store = target.storeRetained.bind(target);
  target.storeRetained = (packet) => {
    store(packet).catch((error: Error) => onFailed(packet.topic, error));
    return Promise.resolve();
  };
  return persistence;
}

/**
 * Aedes 1.2 stores a persistent session's SUBSCRIBE once per filter, each time with the packet's whole list of
 * filters (moscajs/aedes#458). On Redis those identical, concurrent writes never all complete, so a client that
 * subscribes to several filters in one packet never gets its SUBACK. One write per packet is what was meant.
 */
function coalesceAddSubscriptions<P extends { addSubscriptions(client: unknown, subs: object): Promise<void> }>(persistence: P): P {
  const add = persistence.addSubscriptions.bind(persistence);
  const inFlight = new WeakMap<object, Promise<void>>();
  persistence.addSubscriptions = (client, subs) => {
    let write = inFlight.get(subs);
    if (!write) {
      write = add(client, subs);
      inFlight.set(subs, write);
    }
    return write;
  };
  return persistence;
}
