// The Home Assistant bridge: announces every labrun device to Home Assistant by MQTT discovery (a sensor for its
// current run, Resume / Pause / Stop buttons) and carries the buttons' presses to the device's current run. It follows
// the fleet from the retained engine, hardware and device topics; it holds no run state of its own.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  DeviceId,
  RunId,
  RunStatus,
  decodeJson,
  decodeOnlineFlag,
  parseDeviceCurrentTopic,
  parseEngineOnlineTopic,
  parseEngineStatusTopic,
  parseHaActionTopic,
  parseHwTopic,
  parseRunTopic,
  topicMatches,
  topics,
  validate,
} from '@labrun/contracts';
import { closeService, connectService, createLogger, onShutdown, runMain } from '@labrun/service';
import { ActionRelay } from './action-relay.js';
import { Announcer } from './announcer.js';
import { loadConfig } from './config.js';
import { Fleet } from './fleet.js';

const log = createLogger('homeassistant');
const DOCUMENT_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 16 };

/** What the bridge reads of an engine status and a current run: loose, so newer engines' extra fields are fine. */
const EngineDevices = z.object({ devices: z.array(DeviceId).optional() });
const CurrentRunFields = z.object({ runId: RunId, status: RunStatus });

runMain(log, async () => {
  const config = loadConfig();
  const prefix = config.LABRUN_HA_DISCOVERY;
  const subscribe = {
    fleet: [topics.allEngines(), topics.allEngineStatuses(), topics.allHw('online'), topics.allDevicesCurrent(), topics.allHaActions(), `${prefix}/status`],
    /** Discovery configs: read only for a settle time after connecting, to find stale labrun ones. */
    configs: `${prefix}/+/+/+/config`,
  };
  const fleet = new Fleet();

  const publishRetained = (topic: string, payload: string) =>
    void connection.publisher.publishAsync(topic, payload, { qos: 1, retain: true }).catch((error: Error) => log.warn('could not publish', { topic, error: error.message }));
  const announcer = new Announcer({ prefix, fleet, publishRetained, log, settleMs: config.LABRUN_HA_SETTLE_MS });
  const relay = new ActionRelay({
    fleet,
    log,
    publish: async (topic, payload) => void (await connection.publisher.publishAsync(topic, payload, { qos: 1, retain: false })),
    subscribe: async (topic) => void (await connection.receiver.subscribeAsync(topic, { qos: 1 })),
    unsubscribe: async (topic) => void (await connection.receiver.unsubscribeAsync(topic)),
  });

  const connection = connectService({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    clientId: `labrun-ha-${randomUUID().slice(0, 8)}`,
    onlineTopic: topics.haOnline(),
    log,
    async onConnect({ receiver }) {
      announcer.connected(() => void receiver.unsubscribeAsync(subscribe.configs).catch(() => undefined));
      await receiver.subscribeAsync([...subscribe.fleet, subscribe.configs], { qos: 1 });
      log.info('following the fleet for Home Assistant', { discoveryPrefix: prefix, commandTopics: topics.allHaActions() });
    },
  });

  /** One message in; false when it changed nothing the announcer cares about. */
  const receive = (topic: string, payload: Buffer, retained: boolean): boolean => {
    if (topic === `${prefix}/status`) {
      if (payload.toString('utf8').trim() === 'online') announcer.announceAll('Home Assistant came online');
      return false;
    }
    if (topicMatches(subscribe.configs, topic)) {
      announcer.configSeen(topic, payload, retained);
      return false;
    }
    const action = parseHaActionTopic(topic);
    if (action.ok) {
      // A retained press would act again on every reconnect: only live ones count, as for the engine's actions.
      if (retained) log.warn('ignored a retained Home Assistant press: publish presses without the retain flag', { topic });
      else void relay.press(action.value.deviceId, payload);
      return false;
    }
    const run = parseRunTopic(topic);
    if (run.ok) {
      if (run.value.kind === 'events') relay.answer(run.value.runId, payload);
      return false;
    }
    const engineOnline = parseEngineOnlineTopic(topic);
    if (engineOnline.ok) return flag(topic, payload, (online) => fleet.setEngineOnline(engineOnline.value.engineId, online));
    const engineStatus = parseEngineStatusTopic(topic);
    if (engineStatus.ok) {
      return document(topic, payload, EngineDevices, (status) => fleet.setEngineDevices(engineStatus.value.engineId, status ? (status.devices ?? []) : null));
    }
    const hw = parseHwTopic(topic);
    if (hw.ok && hw.value.kind === 'online') return flag(topic, payload, (online) => fleet.setHardwareOnline(hw.value.deviceId, online));
    const current = parseDeviceCurrentTopic(topic);
    if (current.ok) return document(topic, payload, CurrentRunFields, (run) => fleet.setCurrentRun(current.value.deviceId, run));
    log.debug('ignored a message', { topic });
    return false;
  };

  const flag = (topic: string, payload: Buffer, set: (online: boolean | null) => void): boolean => {
    const online = decodeOnlineFlag(payload);
    if (!online.ok) {
      log.warn('ignored a bad online flag', { topic, error: online.error });
      return false;
    }
    set(online.value);
    return true;
  };

  const document = <S extends z.ZodType>(topic: string, payload: Buffer, schema: S, set: (value: z.infer<S> | null) => void): boolean => {
    if (payload.byteLength === 0) {
      set(null);
      return true;
    }
    const json = decodeJson(payload, DOCUMENT_LIMITS);
    const value = json.ok ? validate(schema, json.value) : json;
    if (!value.ok) {
      log.warn('ignored a bad document', { topic, error: value.error });
      return false;
    }
    set(value.value);
    return true;
  };

  connection.receiver.on('message', (topic, payload, packet) => {
    try {
      if (receive(topic, payload, packet.retain)) announcer.update();
    } catch (error) {
      // Nothing a client publishes may stop the bridge.
      log.error('could not handle a message', { topic, error: (error as Error).message });
    }
  });

  onShutdown(log, async () => {
    announcer.close();
    relay.close();
    await closeService(connection, topics.haOnline());
  });
});
