#!/usr/bin/env node
// The gateway service: the HTTP API, server-sent events and the dashboard, over what the broker publishes
// (run statuses, commands documents, events, engines, devices). Creates and actions go to the engine over MQTT.
// It listens first, so the HTTP API answers (with 503 from /healthz) even while the broker is still unreachable.
// With LABRUN_AUTH_FILE, every request but the dashboard's files needs a bearer token (http-auth.ts).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { AuthFileError } from '@labrun/auth';
import { ConfigError, topics } from '@labrun/contracts';
import { closeService, connectService, createLogger, listen, ListenError, loginLimitsFromEnv, onShutdown, runMain, urlHost, type Listener, type ServiceConnection } from '@labrun/service';
import { BrokerCache, CACHE_SUBSCRIPTIONS, FLEET_SUBSCRIPTIONS } from './broker-cache.js';
import { loadConfig } from './config.js';
import { loadDashboard } from './dashboard-files.js';
import { createRequestListener } from './http-api.js';
import { ACTION_SUBSCRIPTIONS, GatewayMetrics } from './metrics.js';
import { GatewayAuth } from './http-auth.js';
import { RunRequests } from './run-requests.js';

const HTTP: Listener = { what: 'HTTP', hostVar: 'HTTP_HOST', portVar: 'HTTP_PORT', whenBusy: () => 'Another labrun gateway may be running there.' };
const log = createLogger('gateway');

async function openAuth(file: string): Promise<GatewayAuth> {
  try {
    const auth = await GatewayAuth.open(file, { log, loginLimits: loginLimitsFromEnv() });
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0) log.warn(`the auth file can be read by other users of this machine: chmod 600 ${file}`, { mode: (mode & 0o777).toString(8) });
    if (auth.tokenCount === 0) log.warn('the auth file has no tokens, so every HTTP request will be refused: add one with `labrun token add <name> --role operator`', { file });
    return auth;
  } catch (error) {
    if (!(error instanceof AuthFileError)) throw error;
    const hint = error.message.endsWith('does not exist') ? `. Create it with its first token: labrun token add <name> --role operator --file ${file}` : '';
    throw new ConfigError(`LABRUN_AUTH_FILE: ${error.message}${hint}`);
  }
}

runMain(log, async () => {
  const config = loadConfig();
  for (const warning of config.warnings) log.warn(warning);
  const auth = config.LABRUN_AUTH_FILE === undefined ? undefined : await openAuth(config.LABRUN_AUTH_FILE);
  const cache = new BrokerCache();
  // Set once the HTTP server is listening; until then no request can ask whether the broker is connected.
  let mqtt: ServiceConnection | undefined;
  const brokerConnected = () => mqtt?.connected ?? false;
  const metrics = new GatewayMetrics(cache, brokerConnected);
  const requests = new RunRequests(cache, async (topic, payload) => {
    if (!mqtt) throw new Error('not connected to the broker yet');
    await mqtt.publisher.publishAsync(topic, payload, { qos: 1, retain: false });
  });

  const dashboard = await loadDashboard();
  const server = createServer(createRequestListener({ cache, brokerConnected, requests, dashboard, examplesDir: config.LABRUN_EXAMPLES_DIR, metrics, log, ...(auth ? { auth } : {}) }));
  let port: number;
  try {
    port = await listen(server, HTTP, config.HTTP_HOST, config.HTTP_PORT);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    log.error(error.message);
    process.exit(1);
  }
  log.info('listening', { http: `http://${urlHost(config.HTTP_HOST)}:${port}` });
  if (auth) log.info('authentication on: every request needs a bearer token, limited by its role', { file: auth.file, tokens: auth.tokenCount });
  else log.info('authentication off (no LABRUN_AUTH_FILE): every request is let in');

  const onlineTopic = topics.gatewayOnline(config.GATEWAY_ID);
  const connection = connectService({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    clientId: `labrun-gateway-${config.GATEWAY_ID}-${randomUUID().slice(0, 8)}`,
    onlineTopic,
    log,
    onConnect: async ({ receiver }) => {
      await receiver.subscribeAsync(CACHE_SUBSCRIPTIONS, { qos: 1 });
      // A broker whose ACL predates fleets may refuse these: the gateway then still serves runs and devices, without
      // which engine serves each device or their current runs from device/<id>/current.
      await receiver
        .subscribeAsync(FLEET_SUBSCRIPTIONS, { qos: 1 })
        .catch((error: Error) => log.warn(`the broker refused a subscription to ${FLEET_SUBSCRIPTIONS.join(' or ')}: GET /devices cannot say which engine serves a device`, { error: error.message }));
      // Only for the metrics' response times: without it the actions are still counted, but not timed.
      await receiver
        .subscribeAsync(ACTION_SUBSCRIPTIONS, { qos: 1 })
        .catch((error: Error) => log.warn(`the broker refused a subscription to ${ACTION_SUBSCRIPTIONS.join(' or ')}: GET /metrics cannot time actions`, { error: error.message }));
    },
  });

  mqtt = connection;
  const { receiver } = connection;
  receiver.on('connect', () => cache.brokerChanged());
  receiver.on('offline', () => cache.brokerChanged());

  receiver.on('message', (topic, payload, packet) => {
    if (metrics.receiveAction(topic, payload, packet.retain)) return;
    const ignored = cache.receive(topic, payload);
    if (ignored) log.warn('ignored a message', { topic: JSON.stringify(ignored.topic), reason: ignored.reason });
  });

  onShutdown(log, async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    auth?.close();
    await Promise.all([closed, closeService(connection, onlineTopic)]);
  });
});
