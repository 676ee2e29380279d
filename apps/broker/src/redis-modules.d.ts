// aedes-persistence-redis ships no type declarations: this is the part of it labrun uses.
declare module 'aedes-persistence-redis' {
  import type { RedisOptions } from 'ioredis';
  interface RedisPersistence {
    destroy(callback: () => void): void;
    addSubscriptions(client: unknown, subs: object): Promise<void>;
  }
  export default function aedesPersistenceRedis(options: RedisOptions): RedisPersistence;
}
