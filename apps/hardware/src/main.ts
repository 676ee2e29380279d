// The hardware service: connects one motion controller (here the built-in GRBL simulator) to MQTT. It answers
// `hw/<dev>/requests` and keeps the retained `hw/<dev>/state` and `hw/<dev>/online` current.
import { randomUUID } from 'node:crypto';
import type { HardwareReply, HardwareState } from '@labrun/contracts';
import { topics } from '@labrun/contracts';
import { SimulatedMachine, followState, readHardwareRequest, runHardwareRequest } from '@labrun/grbl';
import { closeService, connectService, createLogger, onShutdown, runMain } from '@labrun/service';
import type { MqttClient } from 'mqtt';
import { loadConfig } from './config.js';

const log = createLogger('hardware');

runMain(log, async () => {
  const config = loadConfig();
  const device = config.DEVICE_ID;
  const topic = { requests: topics.hw(device, 'requests'), state: topics.hw(device, 'state'), online: topics.hw(device, 'online') };
  const machine = new SimulatedMachine();
  log.info('using the built-in GRBL simulator', { device, serialPath: config.SERIAL_PATH, baud: config.SERIAL_BAUD });

  const publish = (client: MqttClient, to: string, body: unknown, retain = false) =>
    client.publishAsync(to, JSON.stringify(body), { qos: 1, retain }).then(
      () => undefined,
      (error: Error) => log.warn('could not publish', { topic: to, error: error.message }),
    );
  const publishState = (state: HardwareState) => void publish(client, topic.state, state, true);
  const reply = (to: string, answer: HardwareReply) => void publish(client, to, answer);

  const client = connectService({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    clientId: `labrun-hw-${device}-${randomUUID().slice(0, 8)}`,
    onlineTopic: topic.online,
    log,
    async onConnect(connected) {
      await connected.subscribeAsync(topic.requests, { qos: 1 });
      await publish(connected, topic.state, machine.state(), true);
    },
  });

  client.on('message', (received, payload) => {
    if (received !== topic.requests) return;
    const read = readHardwareRequest(payload);
    if (!read.ok) {
      log.warn('bad hardware request', { error: read.error, repliedTo: read.replyTo });
      if (read.replyTo && read.reply) reply(read.replyTo, read.reply);
      return;
    }
    const { request } = read;
    log.debug('request', { id: request.id, op: request.op });
    void runHardwareRequest(machine, request).then((answer) => reply(request.replyTo, answer));
  });

  const stopFeed = followState(machine, publishState);

  onShutdown(log, async () => {
    stopFeed();
    await machine.stop(); // nothing moves once the service that answers for it is gone
    await closeService(client, topic.online);
  });
});
