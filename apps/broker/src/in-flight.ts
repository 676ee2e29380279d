// Aedes acknowledges a QoS 1 PUBLISH before it publishes it (lib/handlers/publish.js: PUBACK, then
// broker.publish), and publishing stores it for each absent persistent session — on Redis, two round trips. A broker
// stopped in between lost a message it had acknowledged, and crashed on the write the closed connection refused.
// So the broker counts the publishes under way and lets them finish before it closes its store.
import type { Aedes } from 'aedes';

export interface PublishesInFlight {
  /** Resolve once none is under way, or after `timeoutMs`, with how many still were. */
  settled(timeoutMs: number): Promise<number>;
}

export function trackPublishes(broker: Aedes): PublishesInFlight {
  let count = 0;
  const waiters = new Set<() => void>();
  const publish = broker.publish.bind(broker) as (packet: unknown, client: unknown, done: (error?: Error) => void) => void;
  (broker as unknown as { publish: unknown }).publish = (packet: unknown, client: unknown, done?: (error?: Error) => void) => {
    if (typeof client === 'function') {
      done = client as (error?: Error) => void;
      client = null;
    }
    count++;
    publish(packet, client, (error) => {
      count--;
      if (count === 0) for (const wake of waiters) wake();
      done?.(error);
    });
  };
  return {
    settled(timeoutMs) {
      if (count === 0) return Promise.resolve(0);
      return new Promise((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(finish);
          resolve(count);
        };
        const timer = setTimeout(finish, timeoutMs);
        waiters.add(finish);
      });
    },
  };
}
