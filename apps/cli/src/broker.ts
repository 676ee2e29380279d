// The CLI's broker connection: MQTT 3.1.1, one attempt with a time limit (a command should fail fast and say
// why), then automatic reconnection so a long `labrun run` rides out a broker restart.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { mqttClientEnv, parseEnv, ConfigError } from '@labrun/contracts';
import { noDelay } from '@labrun/service';
import { CliError, EXIT } from './exit-codes.js';

export const CONNECT_TIMEOUT_MS = 5000;

export interface BrokerSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

/**
 * Written by `npm start` in the repository while it runs (scripts/start.mjs): the broker it started, so that
 * `npx labrun …` reaches it wherever it was put (`BROKER_PORT=1884 npm start`) without being told.
 */
const NPM_START_FILE = fileURLToPath(new URL('../../../.labrun/npm-start.json', import.meta.url));

/** The broker of an `npm start` running in this repository, if one is. */
export function npmStartBroker(file = NPM_START_FILE): string | undefined {
  try {
    const { pid, mqttUrl } = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown; mqttUrl?: unknown };
    if (typeof pid !== 'number' || typeof mqttUrl !== 'string') return undefined;
    process.kill(pid, 0); // throws when that npm start is gone (the file outlived a SIGKILL)
    return mqttUrl;
  } catch {
    return undefined;
  }
}

/**
 * `--url` if given, else MQTT_URL, else the broker of the `npm start` running in this repository, else the default;
 * MQTT_USERNAME and MQTT_PASSWORD from the environment.
 */
export function brokerSettings(url: string | undefined, env: NodeJS.ProcessEnv = process.env, running = npmStartBroker): BrokerSettings {
  try {
    const chosen = url ?? (env.MQTT_URL === undefined || env.MQTT_URL === '' ? running() : undefined);
    const config = parseEnv(mqttClientEnv, chosen === undefined ? env : { ...env, MQTT_URL: chosen });
    return { url: config.MQTT_URL, username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD };
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(EXIT.usage, `labrun: ${error.message}`);
    throw error;
  }
}

function describeConnectError(error: Error & { code?: string | number }): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name cannot be resolved';
    case 2: // CONNACK: identifier rejected. labrun's broker takes the CLI's ids (MQTT_USERNAME-cli-…); another may not.
      return `${error.message} (the broker refused the client id, which starts with MQTT_USERNAME)`;
    case 4: // CONNACK: bad user name or password
    case 5: // CONNACK: not authorized
      return `${error.message} (check MQTT_USERNAME and MQTT_PASSWORD)`;
    default:
      return error.message;
  }
}

export async function connectBroker(settings: BrokerSettings, timeoutMs = CONNECT_TIMEOUT_MS): Promise<MqttClient> {
  const client = mqtt.connect(settings.url, {
    protocolVersion: 4,
    // A broker with an auth file lets a user connect only with client ids it owns (its name, then `-`), and keeps
    // `labrun-…` for the services: a person running the CLI is neither.
    clientId: `${settings.username ?? 'labrun'}-cli-${randomUUID().slice(0, 8)}`,
    clean: true,
    connectTimeout: timeoutMs,
    reconnectPeriod: 0,
    username: settings.username,
    password: settings.password,
  });
  // mqtt.js emits 'error' for every failed attempt; without a listener that event would crash the command.
  // Failures are reported below while connecting, and through 'offline' after.
  client.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      cleanup();
      client.end(true);
      reject(new CliError(EXIT.unreachable, `labrun: cannot reach the MQTT broker at ${settings.url}: ${why}. Is it running? Choose another with --url or MQTT_URL.`));
    };
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => fail(describeConnectError(error));
    const onClose = () => fail('the connection was closed');
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
  // No Nagle delay: an action and the answer the CLI waits for are small messages that should leave at once.
  noDelay(client);
  // From here on a lost connection is retried; subscriptions made from now on are restored on reconnect.
  client.options.reconnectPeriod = 1000;
  let warned = false;
  client.on('offline', () => {
    if (!warned) process.stderr.write(`labrun: lost the connection to ${settings.url}; reconnecting…\n`);
    warned = true;
  });
  client.on('connect', () => {
    noDelay(client);
    if (warned) process.stderr.write(`labrun: reconnected to ${settings.url}\n`);
    warned = false;
  });
  return client;
}

/**
 * Why no engine may have answered, when the CLI logs in: a broker with roles acknowledges a publish the user's role
 * may not make and discards it (MQTT 3.1.1 has no way to say no), so a refused create or action looks like silence.
 */
export function noAnswerMessage(what: string, runId: string, timeoutMs: number, settings: BrokerSettings): string {
  const base = `labrun: no engine answered ${what} on run ${runId} within ${timeoutMs / 1000} s: is an engine connected to ${settings.url}?`;
  if (settings.username === undefined) return base;
  return (
    `${base} Or the broker discarded it: you log in as ${settings.username} (MQTT_USERNAME), and a broker with roles silently drops ` +
    `creates and actions from a user whose role may not publish them (a viewer). Ask for the operator role, or look for ` +
    `"refused a publish" in the broker's log.`
  );
}

/** Disconnect cleanly, but never hang a command that is done on a broker that has gone away. */
export async function disconnect(client: MqttClient): Promise<void> {
  await Promise.race([client.endAsync(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  if (!client.disconnected) client.end(true);
}
