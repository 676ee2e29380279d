// The broker itself: Aedes on TCP and on MQTT-over-WebSocket (/mqtt), optionally each over TLS too, with users
// and topic ACLs when an auth file is configured. SIGHUP reloads the auth file and the certificate.
import { stat } from 'node:fs/promises';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { ConfigError } from '@labrun/contracts';
import { closeServer, coalesceWrites, listen, ListenError, loginLimitsFromEnv, onShutdown, type Logger } from '@labrun/service';
import { serveMetrics } from '@labrun/service/metrics';
import { loadBrokerConfig } from './config.js';
import { listenerUrl, METRICS, MQTT, MQTT_WS, MQTT_WSS, MQTTS, type BrokerListener } from './listen.js';
import { BrokerMetrics } from './metrics.js';
import { logClients } from './client-log.js';
import { BrokerAuth } from './auth.js';
import { AuthFileError } from '@labrun/auth';
import { readCertificate } from './tls.js';
import { redisState } from './redis.js';
import { refuseRetainedControl } from './retained-control.js';
import { limitClientBacklog } from './slow-clients.js';
import { dedupeExactly } from './dedupe.js';
import { limitPackets } from './packet-limits.js';
import { queueDeliveriesThePersistenceMissed } from './empty-levels.js';
import { trackPublishes } from './in-flight.js';

/** The most a fixed header adds to the remaining length that BROKER_MAX_PACKET_BYTES bounds. */
const MQTT_FIXED_HEADER_BYTES = 5;

const notFound = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('labrun broker: connect an MQTT client over WebSocket to /mqtt\n');
};

async function openAuth(file: string, log: Logger): Promise<BrokerAuth> {
  try {
    const auth = await BrokerAuth.open(file, log, loginLimitsFromEnv());
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0) {
      log.warn(`the auth file can be read by other users of this machine: chmod 600 ${file}`, { mode: (mode & 0o777).toString(8) });
    }
    if (auth.userCount === 0) log.warn('the auth file has no users, so every client will be refused: add one with `user add`', { file });
    return auth;
  } catch (error) {
    if (!(error instanceof AuthFileError)) throw error;
    const hint = (error as Error).message.endsWith('does not exist') ? `. Create it and its first user with: node apps/broker/dist/main.js user add <name> --role admin --file ${file}` : '';
    throw new ConfigError(`LABRUN_AUTH_FILE: ${error.message}${hint}`);
  }
}

export async function serveBroker(log: Logger): Promise<void> {
  const config = loadBrokerConfig();
  for (const warning of config.warnings) log.warn(warning);
  const auth = config.authFile === undefined ? undefined : await openAuth(config.authFile, log);

  const redis =
    config.redisUrl === undefined
      ? undefined
      : redisState(config.redisUrl, {
          retainedWriteFailed: (topic, error) => {
            metrics?.retainedWriteFailed();
            log.error('could not keep a retained message in Redis: it was delivered, but a subscriber that comes later will not get it', { topic, error: error.message });
          },
          connectionLost: (connection, error) => {
            metrics?.redisConnection(connection, false);
            log.error('lost its connection to Redis; reconnecting. Until it is back, what is written to Redis waits, and messages the other brokers publish meanwhile do not reach this one', {
              connection,
              error: error.message,
            });
          },
          connectionBack: (connection) => {
            metrics?.redisConnection(connection, true);
            log.info('the connection to Redis is back', { connection });
          },
        });
  // Prometheus metrics only when asked for (BROKER_METRICS_PORT): without them nothing is collected at all.
  let metrics: BrokerMetrics | undefined;
  const broker = await Aedes.createBroker({ ...(auth ? auth.hooks() : {}), ...(redis ? redis.options : {}) });
  if (config.metrics) metrics = new BrokerMetrics(broker, redis !== undefined);
  queueDeliveriesThePersistenceMissed(broker);
  const publishes = trackPublishes(broker);
  logClients(broker, log);
  refuseRetainedControl(broker, log);
  if (auth) broker.on('clientDisconnect', (client) => auth.forget(client));
  if (auth) {
    // Aedes's types leave its persistence out (`persistence?: any` on the options only).
    const { persistence } = broker as unknown as { persistence: Parameters<BrokerAuth['learnRetainedStatuses']>[0] };
    const runs = await auth.learnRetainedStatuses(persistence);
    if (runs > 0) log.info('learned the devices of the runs whose statuses are retained', { runs });
  }

  const { tls } = config;
  // No Nagle delay: MQTT messages are small, and each one should leave at once (a resume must not wait 40 ms).
  // Each turn of the event loop's packets to one client leave in one write (see coalesceWrites).
  const handle = (socket: Socket) => {
    coalesceWrites(socket);
    handleLimited(socket);
  };
  // Every connection, on every listener, gets the same limits (see packet-limits.ts and slow-clients.ts).
  const handleLimited = (connection: Duplex, req?: IncomingMessage) => {
    limitClientBacklog(connection, { maxBacklogBytes: config.limits.maxClientBacklogBytes, maxWaitMs: config.limits.maxClientWaitMs }, log, () => metrics?.clientCutOff());
    const client = broker.handle(connection, req);
    dedupeExactly(client);
    limitPackets(client, config.limits.maxPacketBytes);
  };
  const tcpServer = createTcpServer({ noDelay: true }, handle);
  const httpServer = createHttpServer(notFound);
  let metricsServer: Server | undefined;
  const tlsServer = tls?.port === undefined ? undefined : createTlsServer({ ...tls.certificate, noDelay: true }, handle);
  const httpsServer = tls?.wsPort === undefined ? undefined : createHttpsServer(tls.certificate, notFound);
  // Most often a client speaking plain MQTT to a TLS port, or one that does not trust the certificate.
  for (const server of [tlsServer, httpsServer]) {
    server?.on('tlsClientError', (error, socket) => log.debug('TLS handshake failed', { from: `${socket.remoteAddress}:${socket.remotePort}`, error: error.message }));
  }

  const bound: { listener: BrokerListener; port: number }[] = [];
  try {
    bound.push({ listener: MQTT, port: await listen(tcpServer, MQTT, config.host, config.port) });
    bound.push({ listener: MQTT_WS, port: await listen(httpServer, MQTT_WS, config.host, config.wsPort) });
    if (tlsServer) bound.push({ listener: MQTTS, port: await listen(tlsServer, MQTTS, config.host, tls!.port!) });
    if (httpsServer) bound.push({ listener: MQTT_WSS, port: await listen(httpsServer, MQTT_WSS, config.host, tls!.wsPort!) });
    if (metrics) metricsServer = await serveMetrics(metrics.registry, METRICS, config.metrics!.host, config.metrics!.port, log);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    log.error(error.message);
    process.exit(1);
  }
  // Created once bound, so a failed listen is reported once, above, and not re-emitted by the WebSocket servers.
  const webSocketServers = [httpServer, httpsServer].flatMap((server) => {
    if (!server) return [];
    // ws reads a whole frame before passing it on: its own limit (close code 1009) stops an oversized one first.
    const wss = new WebSocketServer({ server, path: '/mqtt', maxPayload: config.limits.maxPacketBytes + MQTT_FIXED_HEADER_BYTES });
    wss.on('connection', (socket, req) => handleLimited(createWebSocketStream(socket), req));
    wss.on('error', (error) => log.warn('websocket server error', { error: error.message }));
    return [wss];
  });

  const reload = async () => {
    if (auth) {
      try {
        const { users, disconnected } = await auth.reload();
        log.info('reloaded the auth file', { file: auth.file, users, disconnected });
      } catch (error) {
        log.error('could not reload the auth file; the users loaded before stay in force', { error: (error as Error).message });
      }
    }
    if (tls) {
      try {
        const certificate = readCertificate(tls.certFile, tls.keyFile);
        for (const server of [tlsServer, httpsServer]) (server as TlsServer | undefined)?.setSecureContext(certificate);
        log.info('reloaded the TLS certificate', { cert: tls.certFile });
      } catch (error) {
        log.error('could not reload the TLS certificate; the one loaded before stays in use', { error: (error as Error).message });
      }
    }
  };
  if (auth || tls) {
    // Without anything to reload, SIGHUP keeps its usual meaning (the terminal went away: stop).
    process.on('SIGHUP', () => void reload());
  }

  onShutdown(log, async () => {
    const servers: Server[] = [tcpServer, httpServer, ...(tlsServer ? [tlsServer] : []), ...(httpsServer ? [httpsServer] : []), ...(metricsServer ? [metricsServer] : [])];
    const closing = servers.map(closeServer);
    for (const wss of webSocketServers) wss.close();
    // What was acknowledged is stored and sent on before the clients and the store close (in-flight.ts), then what
    // closing the clients publishes (wills): within the 5 s that stopping has.
    await publishes.settled(2000);
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    const unfinished = await publishes.settled(1500);
    if (unfinished > 0) log.warn('stopped with messages still being published: a session that is away may not get them', { messages: unfinished });
    await redis?.close();
    httpServer.closeAllConnections();
    httpsServer?.closeAllConnections();
    await Promise.all(closing);
  });

  if (redis) log.info('state kept in Redis: sessions and retained messages survive a restart; brokers on the same Redis form a cluster', { redis: config.redisUrl!.replace(/\/\/[^@/]*@/, '//***@') });
  if (auth) log.info('authentication on: clients log in and topics are limited by role', { file: auth.file, users: auth.userCount });
  else log.info('authentication off (no LABRUN_AUTH_FILE): every client may publish and subscribe to everything');
  const urls = Object.fromEntries(bound.map(({ listener, port }) => [listener.scheme, listenerUrl(listener, config.host, port)]));
  // `listening mqtt=… ws=…` keeps this shape and order (tools parse it); TLS listeners follow as mqtts=… wss=….
  log.info('listening', urls);
  log.info('ready', { mqtt: urls.mqtt });
}
