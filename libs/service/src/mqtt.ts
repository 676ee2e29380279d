// The MQTT connection every service holds: MQTT 3.1.1 (so any broker, Aedes included, accepts it), a retained
// `online` flag with `false` as the last will, reconnection with backoff, and a hook that runs on every
// (re)connect so a service can resubscribe and republish what it owns.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from './log.js';

export interface ServiceConnectionOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId: string;
  /** Retained topic that says whether this service is up: `true` on connect, `false` as the last will. */
  onlineTopic: string;
  log: Logger;
  /** Runs after every connect and reconnect, before `online` is announced. */
  onConnect: (client: MqttClient) => Promise<void> | void;
  /**
   * Keep the session on the broker while disconnected (clean: false), so QoS 1 messages for this service are
   * queued while it is away. Needs a client id that stays the same across restarts.
   */
  persistentSession?: boolean;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2000;

export function connectService(options: ServiceConnectionOptions): MqttClient {
  const { log } = options;
  const clientOptions: IClientOptions = {
    protocolVersion: 4,
    clientId: options.clientId,
    clean: !options.persistentSession,
    keepalive: 10,
    connectTimeout: 5000,
    reconnectPeriod: MIN_BACKOFF_MS,
    username: options.username,
    password: options.password,
    will: { topic: options.onlineTopic, payload: Buffer.from('false'), qos: 1, retain: true },
  };
  const client = mqtt.connect(options.url, clientOptions);
  let failures = 0;

  client.on('connect', () => {
    // No Nagle delay on our side either: small messages leave at once.
    noDelay(client);
    failures = 0;
    client.options.reconnectPeriod = MIN_BACKOFF_MS;
    log.info('connected to broker', { url: options.url });
    void (async () => {
      try {
        await options.onConnect(client);
        await client.publishAsync(options.onlineTopic, 'true', { qos: 1, retain: true });
        log.info('ready', { url: options.url });
      } catch (error) {
        log.error('could not set up after connecting', { error: (error as Error).message });
      }
    })();
  });
  client.on('reconnect', () => {
    // Back off 250 ms, 500 ms, 1 s, then every 2 s: a returning broker is found again within 2 s.
    failures++;
    client.options.reconnectPeriod = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** failures);
    if (failures === 1 || failures % 10 === 0) log.warn('broker unreachable, retrying', { url: options.url, attempts: failures });
  });
  client.on('offline', () => log.warn('disconnected from broker', { url: options.url }));
  client.on('error', (error) => log.warn('mqtt error', { error: error.message }));
  return client;
}

/** Publish `online=false` and close cleanly, so subscribers see the service go away at once. */
export async function closeService(client: MqttClient, onlineTopic: string): Promise<void> {
  if (client.connected) {
    await Promise.race([client.publishAsync(onlineTopic, 'false', { qos: 1, retain: true }), new Promise((r) => setTimeout(r, 1000))]);
  }
  await client.endAsync();
}

/** Turn off Nagle's algorithm on the client's TCP socket (a WebSocket or TLS stream is left as it is). */
export function noDelay(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
}
