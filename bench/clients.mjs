// The benchmarks' own MQTT clients. Lean: unlike the testkit's client, which records every message for tests to
// look back on, they keep only what a benchmark asks for, so the client adds as little as it can to a figure.
// Each role gets its own connection (one publishes actions, another receives statuses), with TCP_NODELAY: a
// connection that publishes QoS 1 gets PUBACKs it never answers, and on a broker with Nagle on (Mosquitto's
// default) the next thing sent to it waits ~40 ms for the client's delayed ACK of that PUBACK.
import mqtt from 'mqtt';
import { now } from './stats.mjs';

export async function connect(url, options = {}) {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  client.on('error', (error) => console.warn(`  [bench] mqtt client: ${error.message}`));
  client.stream.setNoDelay?.(true);
  return client;
}

/**
 * The JSON messages a client receives, each with the time it arrived (`at`, ms); `until` waits for the first
 * one from a position on that satisfies a predicate, so none is missed however they bunch up.
 */
export function messageLog(client) {
  const entries = [];
  let waiters = [];
  client.on('message', (topic, payload) => {
    const at = now();
    if (payload.length === 0) return; // a retained message being cleared
    entries.push({ topic, at, body: JSON.parse(payload.toString()) });
    waiters = waiters.filter((waiter) => !waiter.check());
  });
  return {
    get length() {
      return entries.length;
    },
    /** The messages received from position `from` on. */
    since: (from) => entries.slice(from),
    until(predicate, from = 0, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        let seen = from;
        const waiter = {
          check() {
            for (; seen < entries.length; seen++) {
              if (!predicate(entries[seen])) continue;
              clearTimeout(timer);
              resolve(entries[seen]);
              return true;
            }
            return false;
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          const last = entries.slice(-3).map((e) => `${e.topic} ${JSON.stringify(e.body).slice(0, 200)}`);
          reject(new Error(`no message matched within ${timeoutMs} ms; last ones:\n${last.join('\n')}`));
        }, timeoutMs);
        if (!waiter.check()) waiters.push(waiter);
      });
    },
  };
}

/**
 * Reject if `promise` has not settled within `ms`: a broker that drops messages fails a bench instead of hanging
 * it. `what` (a string, or a function asked when the time is up) says what did not happen.
 */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${typeof what === 'function' ? what() : what}: not within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
