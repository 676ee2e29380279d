#!/usr/bin/env node
// The gateway service: serves the broker's retained view of labrun (run statuses, engines, devices) over HTTP.
// It listens first, so the HTTP API answers (with 503 from /healthz) even while the broker is still unreachable.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { closeService, connectService, createLogger, listen, ListenError, onShutdown, runMain, urlHost, type Listener } from '@labrun/service';
import { BrokerCache, CACHE_SUBSCRIPTIONS } from './broker-cache.js';
import { loadConfig } from './config.js';
import { createRequestListener } from './http-api.js';

const HTTP: Listener = { what: 'HTTP', hostVar: 'HTTP_HOST', portVar: 'HTTP_PORT', whenBusy: () => 'Another labrun gateway may be running there.' };
const log = createLogger('gateway');

runMain(log, async () => {
  const config = loadConfig();
  const cache = new BrokerCache();
  // Set once the HTTP server is listening; until then no request can ask whether the broker is connected.
  let mqttClient: MqttClient | undefined;

  const server = createServer(createRequestListener({ cache, brokerConnected: () => mqttClient?.connected ?? false }));
  let port: number;
  try {
    port = await listen(server, HTTP, config.HTTP_HOST, config.HTTP_PORT);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    log.error(error.message);
    process.exit(1);
  }
  log.info('listening', { http: `http://${urlHost(config.HTTP_HOST)}:${port}` });

  // The gateway's own online flag: not a run or hardware topic, so it lives beside engine/<id>/online.
  const onlineTopic = `gateway/${config.GATEWAY_ID}/online`;
  const client = connectService({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    clientId: `labrun-gateway-${config.GATEWAY_ID}-${randomUUID().slice(0, 8)}`,
    onlineTopic,
    log,
    onConnect: async (c) => {
      await c.subscribeAsync(CACHE_SUBSCRIPTIONS, { qos: 1 });
    },
  });

  mqttClient = client;

  client.on('message', (topic, payload) => {
    const ignored = cache.receive(topic, payload);
    if (ignored) log.warn('ignored a message', { topic: JSON.stringify(ignored.topic), reason: ignored.reason });
  });

  onShutdown(log, async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await Promise.all([closed, closeService(client, onlineTopic)]);
  });
});
