// The MQTT connections every service holds: MQTT 3.1.1 (so any broker, Aedes included, accepts them), a
// retained `online` flag with `false` as the last will, reconnection with backoff, and a hook that runs on every
// (re)connect so a service can resubscribe and republish what it owns.
//
// A service receives on one connection and publishes on another. A broker that leaves Nagle's algorithm on
// (Mosquitto's default, set_tcp_nodelay false) holds a small packet back until the client has acknowledged the
// one before; Linux acknowledges late (40 ms) when it has nothing to send back. A client that both publishes
// and subscribes on one connection gets a PUBACK it never answers, so the next message delivered to it waits
// ~40 ms: measured on a stock Mosquitto, 44 ms a request/response hop. With the roles on two connections,
// every delivery is answered at once (its PUBACK carries the ACK) and the hop takes 0.16 ms.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Writable } from 'node:stream';
import type { Logger } from './log.js';

export interface ServiceConnectionOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId: string;
  /** Retained topic that says whether this service is up: `true` on connect, `false` as the last will. */
  onlineTopic: string;
  log: Logger;
  /**
   * Runs after every connect and reconnect of the receiving connection, before `online` is announced:
   * subscribe with `receiver`, republish with `publisher`.
   */
  onConnect: (connection: ServiceConnection) => Promise<void> | void;
  /**
   * Keep the receiving session on the broker while disconnected (clean: false), so QoS 1 messages for this
   * service are queued while it is away. Needs a client id that stays the same across restarts.
   */
  persistentSession?: boolean;
}

export interface ServiceConnection {
  /** Subscribes and receives (`message` events); carries the online flag and the last will. */
  readonly receiver: MqttClient;
  /** Sends everything the service publishes. Publishes made while it is down are sent when it is back. */
  readonly publisher: MqttClient;
  /** Both connections are up. */
  readonly connected: boolean;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2000;

/**
 * Whether a DEBUG value asks for mqtt.js's trace, read as the `debug` module reads it: names separated by commas
 * or spaces, `*` matching anything, and a name starting with `-` excluding what it matches.
 */
export function mqttTraceWanted(debug: string | undefined): boolean {
  const matches = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test('mqttjs:client');
  const names = (debug ?? '').split(/[\s,]+/).filter((name) => name !== '');
  if (names.some((name) => name.startsWith('-') && matches(name.slice(1)))) return false;
  return names.some((name) => !name.startsWith('-') && matches(name));
}

/** What every labrun connection asks of the broker: MQTT 3.1.1, keepalive, timeouts, the first reconnect delay. */
function baseOptions(options: { username?: string | undefined; password?: string | undefined }): IClientOptions {
  return {
    protocolVersion: 4,
    keepalive: 10,
    connectTimeout: 5000,
    reconnectPeriod: MIN_BACKOFF_MS,
    username: options.username,
    password: options.password,
    // mqtt.js traces every packet through the `debug` module; unless DEBUG asks for that trace, skip even the
    // calls (2–3 % of the engine's CPU when it publishes 40,000 events a second).
    ...(mqttTraceWanted(process.env.DEBUG) ? {} : { log: () => {} }),
  };
}

export function connectService(options: ServiceConnectionOptions): ServiceConnection {
  const { log } = options;
  const base = baseOptions(options);
  const receiver = mqtt.connect(options.url, {
    ...base,
    clientId: options.clientId,
    clean: !options.persistentSession,
    will: { topic: options.onlineTopic, payload: Buffer.from('false'), qos: 1, retain: true },
  });
  const publisher = mqtt.connect(options.url, { ...base, clientId: `${options.clientId}-pub`, clean: true });
  const connection: ServiceConnection = {
    receiver,
    publisher,
    get connected() {
      return receiver.connected && publisher.connected;
    },
  };
  const publisherUp = () => (publisher.connected ? Promise.resolve() : new Promise<void>((resolve) => publisher.once('connect', () => resolve())));
  superviseConnection(receiver, options.url, log, 'receiving');
  superviseConnection(publisher, options.url, log, 'publishing');

  receiver.on('connect', () => {
    void (async () => {
      try {
        await options.onConnect(connection);
        // `ready` and `online` mean the service can answer: its publishing connection is up too (a broker that
        // checks passwords may let one connection in well before the other).
        await publisherUp();
        await receiver.publishAsync(options.onlineTopic, 'true', { qos: 1, retain: true });
        log.info('ready', { url: loggableUrl(options.url) });
      } catch (error) {
        log.error('could not set up after connecting', { error: (error as Error).message });
      }
    })();
  });
  return connection;
}

/**
 * One receiving connection for a service that only watches (it publishes nothing, so it has no `online` flag and no
 * last will, and a `viewer` user is enough): the same options, backoff and log lines as connectService's, with a
 * clean session. Subscribe on its `connect` event, which follows every reconnect.
 */
export function connectWatcher(options: { url: string; username?: string | undefined; password?: string | undefined; clientId: string; log: Logger }): MqttClient {
  const client = mqtt.connect(options.url, { ...baseOptions(options), clientId: options.clientId, clean: true });
  superviseConnection(client, options.url, options.log, 'receiving');
  return client;
}

/** A broker URL fit for a log line: without the user name and password it may carry (mqtt://user:pass@host). */
export function loggableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(an invalid URL)';
  }
}

/** TCP_NODELAY, reconnecting with backoff, and a log line for each change of one connection. */
function superviseConnection(client: MqttClient, brokerUrl: string, log: Logger, role: string): void {
  const url = loggableUrl(brokerUrl);
  let failures = 0;
  client.on('connect', () => {
    // No Nagle delay on our side either: small messages leave at once.
    noDelay(client);
    if (client.stream) coalesceWrites(client.stream);
    failures = 0;
    client.options.reconnectPeriod = MIN_BACKOFF_MS;
    log.info('connected to broker', { url, connection: role });
  });
  client.on('reconnect', () => {
    // Back off 250 ms, 500 ms, 1 s, then every 2 s: a returning broker is found again within 2 s.
    failures++;
    client.options.reconnectPeriod = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** failures);
    if (failures === 1 || failures % 10 === 0) log.warn('broker unreachable, retrying', { url, connection: role, attempts: failures });
  });
  client.on('offline', () => log.warn('disconnected from broker', { url, connection: role }));
  client.on('error', (error) => log.warn('mqtt error', { connection: role, error: error.message }));
}

/** Publish `online=false` and close both connections cleanly, so subscribers see the service go away at once. */
export async function closeService(connection: ServiceConnection, onlineTopic: string): Promise<void> {
  const { receiver, publisher } = connection;
  // What the service published last leaves before it says it is gone (given a second, if the broker is slow).
  await endWithin(publisher, 1000);
  if (receiver.connected) await within(receiver.publishAsync(onlineTopic, 'false', { qos: 1, retain: true }), 1000);
  await endWithin(receiver, 1000);
}

const within = (promise: Promise<unknown>, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
};

/** End a connection once its in-flight messages are acknowledged; stop waiting after `ms` (the process exits). */
async function endWithin(client: MqttClient, ms: number): Promise<void> {
  await within(client.connected ? client.endAsync() : client.endAsync(true), ms);
}

const coalescing = new WeakSet<object>();

/**
 * Send what a stream is given during one turn of the event loop in one system call, instead of one per MQTT
 * packet: the chunks written from the first one until the loop's check phase (setImmediate) are joined into one
 * buffer and written then. A burst of messages (acknowledgements for a batch of actions, a run's events) then
 * costs one write, not hundreds; a lone message waits only for the current turn to end. Joining is cheaper than
 * corking the stream and letting it writev the pieces (a packet is five or six: header, length, topic, id,
 * payload): 100,000 comments went from 20,300–23,800 to 25,700–26,300 commands/s, the engine and the broker each
 * spending about a tenth less CPU. Nagle's algorithm stays off: what is flushed leaves at once.
 * Backpressure is kept: write() says false once the stream and what waits here reach its high-water mark, and
 * 'drain' follows; end() sends what waits first.
 */
export function coalesceWrites(stream: Pick<Writable, 'write' | 'end' | 'writableLength' | 'writableHighWaterMark' | 'emit'>): void {
  if (coalescing.has(stream)) return;
  coalescing.add(stream);
  type Callback = (error?: Error | null) => void;
  const write = stream.write.bind(stream) as (chunk: Uint8Array, callback?: Callback) => boolean;
  const end = stream.end.bind(stream) as (...args: unknown[]) => unknown;
  let chunks: Uint8Array[] = [];
  let bytes = 0;
  let callbacks: Callback[] = [];
  let full = false;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (chunks.length === 0) return;
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
    const done = callbacks;
    const owedDrain = full;
    chunks = [];
    bytes = 0;
    callbacks = [];
    full = false;
    const roomLeft = write(data, done.length === 0 ? undefined : (error) => done.forEach((callback) => callback(error)));
    // Our write() said false, so the writer waits for 'drain'; the stream sends one only if this write filled it.
    if (owedDrain && roomLeft) process.nextTick(() => stream.emit('drain'));
  };
  (stream as { write: unknown }).write = (chunk: string | Uint8Array, encoding?: BufferEncoding | Callback, callback?: Callback) => {
    if (typeof encoding === 'function') callback = encoding;
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
    chunks.push(buffer);
    bytes += buffer.length;
    if (callback) callbacks.push(callback);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    if (stream.writableLength + bytes >= stream.writableHighWaterMark) full = true;
    return !full;
  };
  (stream as { end: unknown }).end = (...args: unknown[]) => {
    flush();
    return end(...args);
  };
}

/** Turn off Nagle's algorithm on the client's TCP socket (a WebSocket or TLS stream is left as it is). */
export function noDelay(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
}
