// The labrun MQTT broker: Aedes on TCP and on MQTT-over-WebSocket (/mqtt), configured from the environment.
import { createServer as createTcpServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { closeServer, createLogger, listen, ListenError, onShutdown, runMain } from '@labrun/service';
import { loadBrokerConfig } from './config.js';
import { listenerUrl, MQTT, MQTT_WS } from './listen.js';
import { logClients } from './client-log.js';

const log = createLogger('broker');

runMain(log, async () => {
  const config = loadBrokerConfig();
  const broker = await Aedes.createBroker();
  logClients(broker, log);

  const tcpServer = createTcpServer(broker.handle);
  const httpServer = createHttpServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('labrun broker: connect an MQTT client over WebSocket to /mqtt\n');
  });

  let port: number;
  let wsPort: number;
  try {
    port = await listen(tcpServer, MQTT, config.host, config.port);
    wsPort = await listen(httpServer, MQTT_WS, config.host, config.wsPort);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    log.error(error.message);
    process.exit(1);
  }
  // Created once bound, so a failed listen is reported once, above, and not re-emitted by the WebSocket server.
  const wss = new WebSocketServer({ server: httpServer, path: '/mqtt' });
  wss.on('connection', (socket, req) => broker.handle(createWebSocketStream(socket), req));
  wss.on('error', (error) => log.warn('websocket server error', { error: error.message }));

  onShutdown(log, async () => {
    const closing = [closeServer(tcpServer), closeServer(httpServer)];
    wss.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    httpServer.closeAllConnections();
    await Promise.all(closing);
  });

  const mqttUrl = listenerUrl(MQTT, config.host, port);
  log.info('listening', { mqtt: mqttUrl, ws: listenerUrl(MQTT_WS, config.host, wsPort) });
  log.info('ready', { mqtt: mqttUrl });
});
