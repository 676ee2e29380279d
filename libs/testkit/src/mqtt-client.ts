// A plain MQTT client for tests, the way any user's client would talk to labrun, that records what it
// receives so a test can wait for "the first status that says paused" without racing the broker.
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { noDelay } from '@labrun/service';
import { Changes } from './changes.js';

export interface Received {
  topic: string;
  text: string;
  retain: boolean;
  json(): any;
}

export interface TestClient {
  readonly client: MqttClient;
  readonly received: Received[];
  subscribe(filter: string | string[]): Promise<void>;
  publish(topic: string, payload: string | Buffer | object, options?: { retain?: boolean; qos?: 0 | 1 }): Promise<void>;
  /** The first message (already received or still to come) on a topic matching `filter` that satisfies `predicate`. */
  waitFor(filter: string, predicate?: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Messages on topics matching `filter`, received so far. */
  messages(filter: string): Received[];
  close(): Promise<void>;
}

/** MQTT topic filter matching, with + and # wildcards. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export async function connectTestClient(url: string, options: mqtt.IClientOptions = {}): Promise<TestClient> {
  // A broker with an auth file lets a user connect only with client ids it owns: its name, then `-` (client-ids.ts).
  const clientId = options.username ? { clientId: `${options.username}-test-${randomUUID().slice(0, 8)}` } : {};
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 200, connectTimeout: 5000, ...clientId, ...options });
  // Recording starts before the connection is up: a persistent session's queued messages can arrive in the same
  // read as the CONNACK, and are emitted before anything that waits for `connect` runs.
  const received: Received[] = [];
  const changes = new Changes();
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8');
    received.push({ topic, text, retain: packet.retain, json: () => JSON.parse(text) });
    changes.notify();
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  // Like the services: no Nagle delay, so timings measure labrun and not TCP's batching of small packets.
  noDelay(client);
  client.on('connect', () => noDelay(client));

  return {
    client,
    received,
    async subscribe(filter) {
      await client.subscribeAsync(filter, { qos: 1 });
    },
    async publish(topic, payload, opts = {}) {
      const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
      await client.publishAsync(topic, body, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
    },
    messages: (filter) => received.filter((m) => topicMatches(filter, m.topic)),
    waitFor(filter, predicate = () => true, timeoutMs = 10_000) {
      let seen = 0; // messages already looked at: each is tested once
      return changes.until(
        () => {
          for (; seen < received.length; seen++) {
            const m = received[seen]!;
            if (topicMatches(filter, m.topic) && predicate(m)) return m;
          }
          return undefined;
        },
        timeoutMs,
        () => {
          const recent = received
            .filter((m) => topicMatches(filter, m.topic))
            .slice(-5)
            .map((m) => `${m.topic} ${m.text.slice(0, 300)}`);
          return `no message on ${filter} matched within ${timeoutMs} ms; last ones:\n${recent.join('\n')}`;
        },
      );
    },
    async close() {
      await client.endAsync(true);
    },
  };
}

/** Test clients that a spec connects as it goes and closes all at once (in its afterEach). */
export function clientPool(): { connect(url: string, options?: mqtt.IClientOptions): Promise<TestClient>; closeAll(): Promise<void> } {
  const clients: TestClient[] = [];
  return {
    async connect(url, options = {}) {
      const client = await connectTestClient(url, options);
      clients.push(client);
      return client;
    },
    async closeAll() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
  };
}
