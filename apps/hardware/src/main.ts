// The hardware service: connects one GRBL controller to MQTT. It answers `hw/<dev>/requests` and keeps the
// retained `hw/<dev>/state` and `hw/<dev>/online` current. SERIAL_PATH=sim (the default) runs the GRBL simulator
// in this process, driven through the same serial driver as a controller on /dev/ttyUSB0 would be.
import { randomUUID } from 'node:crypto';
import type { HardwareReply, HardwareState } from '@labrun/contracts';
import { topics } from '@labrun/contracts';
import { GrblConnection, GrblDriver, GrblSimulator, followState, readHardwareRequest, runHardwareRequest } from '@labrun/grbl';
import { closeServer, closeService, connectService, createLogger, onShutdown, runMain, type Listener } from '@labrun/service';
import { serveMetrics } from '@labrun/service/metrics';
import type { MqttClient } from 'mqtt';
import { loadConfig } from './config.js';
import { HardwareMetrics } from './metrics.js';

const log = createLogger('hardware');

/**
 * What the built-in simulated device's probe touches: a surface (a liquid level, say) at machine Z -79, which is
 * deck Z 20 with the default deck origin (the homed position, -299,-299,-99). A probe from above it touches it.
 */
const SIMULATED_PROBE_SURFACE_Z = -79;

const METRICS: Listener = { what: 'metrics (HTTP)', hostVar: 'HARDWARE_METRICS_HOST', portVar: 'HARDWARE_METRICS_PORT' };

runMain(log, async () => {
  const config = loadConfig();
  const device = config.DEVICE_ID;
  const topic = { requests: topics.hw(device, 'requests'), state: topics.hw(device, 'state'), online: topics.hw(device, 'online') };

  const outputs = config.HARDWARE_OUTPUTS;
  // The simulated controller is built with mist coolant (ENABLE_M7) when an output is wired to it.
  const simulator =
    config.SERIAL_PATH === 'sim' ? new GrblSimulator({ baudRate: config.SERIAL_BAUD, enableM7: [...outputs.values()].includes('mist'), probeSurfaceZ: SIMULATED_PROBE_SURFACE_Z }) : null;
  const machine = new GrblConnection({
    target: simulator ? 'the built-in simulator' : config.SERIAL_PATH,
    open: simulator ? async () => new GrblDriver(simulator.port, { name: 'the built-in simulator' }) : () => GrblDriver.open(config.SERIAL_PATH, config.SERIAL_BAUD),
    controller: { deckOrigin: config.DEVICE_ORIGIN, outputs },
    log,
  });
  const deckOrigin = config.DEVICE_ORIGIN ?? 'the homed position';
  const offered = Object.fromEntries(outputs);
  if (simulator) log.info('using the built-in GRBL simulator', { device, baud: config.SERIAL_BAUD, deckOrigin, outputs: offered, probeSurfaceZ: SIMULATED_PROBE_SURFACE_Z });
  else log.info('using the GRBL controller on a serial port', { device, serialPath: config.SERIAL_PATH, baud: config.SERIAL_BAUD, deckOrigin, outputs: offered });
  machine.start();

  // Prometheus metrics only when asked for (HARDWARE_METRICS_PORT): without them nothing is collected at all.
  const metrics = config.HARDWARE_METRICS_PORT === undefined ? undefined : new HardwareMetrics(() => machine.state(), [...outputs.keys()]);
  const metricsServer = metrics && (await serveMetrics(metrics.registry, METRICS, config.HARDWARE_METRICS_HOST, config.HARDWARE_METRICS_PORT!, log));

  const publish = (client: MqttClient, to: string, body: unknown, retain = false) =>
    client.publishAsync(to, JSON.stringify(body), { qos: 1, retain }).then(
      () => undefined,
      (error: Error) => log.warn('could not publish', { topic: to, error: error.message }),
    );
  const publishState = (state: HardwareState) => void publish(connection.publisher, topic.state, state, true);
  const reply = (to: string, answer: HardwareReply) => void publish(connection.publisher, to, answer);

  const connection = connectService({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    clientId: `labrun-hw-${device}-${randomUUID().slice(0, 8)}`,
    onlineTopic: topic.online,
    log,
    async onConnect({ receiver, publisher }) {
      await receiver.subscribeAsync(topic.requests, { qos: 1 });
      await publish(publisher, topic.state, machine.state(), true);
    },
  });

  connection.receiver.on('message', (received, payload) => {
    if (received !== topic.requests) return;
    const read = readHardwareRequest(payload);
    if (!read.ok) {
      log.warn('bad hardware request', { error: read.error, repliedTo: read.replyTo });
      if (read.replyTo && read.reply) reply(read.replyTo, read.reply);
      return;
    }
    const { request } = read;
    log.debug('request', { id: request.id, op: request.op });
    const started = performance.now();
    void runHardwareRequest(machine, request).then((answer) => {
      metrics?.answered(request, answer, (performance.now() - started) / 1000);
      if (!answer.ok) log.info('request failed', { id: request.id, op: request.op, code: answer.code, positionLost: answer.positionLost, error: answer.message });
      reply(request.replyTo, answer);
    });
  });

  const stopFeed = followState(machine, publishState);

  onShutdown(log, async () => {
    stopFeed();
    await machine.stop().catch(() => undefined); // nothing moves once the service that answers for it is gone
    await machine.close();
    simulator?.close();
    await closeService(connection, topic.online);
    if (metricsServer) await closeServer(metricsServer);
  });
});
