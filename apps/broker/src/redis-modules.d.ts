// aedes-persistence-redis ships no type declarations: this is the part of it labrun uses.
declare module 'aedes-persistence-redis' {
  import type { Redis, RedisOptions } from 'ioredis';
  interface RedisPersistence {
    /** Unsubscribes from the other brokers and closes the Redis connection. */
    destroy(): Promise<void>;
    addSubscriptions(client: unknown, subs: object): Promise<void>;
  }
  /** With `conn`, that connection is used (and closed by destroy()) instead of one made from the options. */
  export default function aedesPersistenceRedis(options: RedisOptions | { conn: Redis }): RedisPersistence;
}
