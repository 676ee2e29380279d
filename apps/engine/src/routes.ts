// Inbound MQTT messages → engine calls. Every payload is decoded through the contract; anything that
// cannot be read is answered with a rejection event (or, where there is no one to answer, a log line).
import { actionIdentity, decodeAction, decodeCreateRun, decodeOnlineFlag, decodePayload, HARDWARE_LIMITS, HardwareState, parseHwTopic, parseRunTopic } from '@labrun/contracts';
import type { Engine, InterlockWatch } from '@labrun/engine';
import type { Logger } from '@labrun/service';
import type { MqttHardwarePort } from './hardware-port.js';
import type { OtherEngines } from './other-engines.js';

export interface Routes {
  engine: Engine;
  hardware: MqttHardwarePort;
  devices: InterlockWatch;
  engines: OtherEngines;
  log: Logger;
}

export function routeMessage({ engine, hardware, devices, engines, log }: Routes, topic: string, payload: Buffer, retained: boolean): void {
  if (topic === hardware.replyTopic) return hardware.handleReply(payload);
  if (engines.handle(topic, payload)) return;

  if (topic.startsWith('hw/')) {
    const hw = parseHwTopic(topic);
    if (!hw.ok) return;
    const { deviceId, kind } = hw.value;
    let interlock = null;
    if (kind === 'online') {
      // `true` or `false` (or empty: the retained flag was cleared). Anything else says nothing about the
      // device, and must not block its runs.
      const flag = decodeOnlineFlag(payload);
      if (!flag.ok) {
        log.warn(`ignored an unreadable online flag: ${flag.error}`, { deviceId, payload: JSON.stringify(payload.toString('utf8').slice(0, 40)) });
        return;
      }
      const online = flag.value === true;
      hardware.handleOnline(deviceId, online);
      interlock = devices.update(deviceId, { online });
    } else if (kind === 'state' && payload.length > 0) {
      const state = decodePayload(HardwareState, payload, HARDWARE_LIMITS);
      if (!state.ok) log.warn('ignored an unreadable hardware state', { deviceId, error: state.error });
      else interlock = devices.update(deviceId, { state: state.value });
    }
    if (interlock) {
      log.info('interlock', { deviceId, active: interlock.active, message: interlock.message });
      engine.setInterlock(deviceId, interlock.active, interlock.message);
    }
    return;
  }

  // Anything else is a message for a protocol's wait-for (the engine subscribes to nothing else).
  if (!topic.startsWith('run/')) {
    engine.external(topic, payload.toString('utf8'), retained);
    return;
  }
  const run = parseRunTopic(topic);
  if (!run.ok) {
    log.warn('ignored a message on a topic that is not a valid run topic', { topic: JSON.stringify(topic), error: run.error });
    return;
  }
  const { runId, kind } = run.value;
  if (retained) {
    // A retained create or action would be replayed to the engine on every reconnect: refuse to act on it.
    log.warn(`ignored a retained message on ${topic}: publish creates and actions without the retain flag`);
    return;
  }
  if (kind === 'create') {
    const request = decodeCreateRun(payload);
    if (request.ok) engine.create(runId, request.value);
    else engine.rejectCreate(runId, request.error);
  } else if (kind === 'actions') {
    const action = decodeAction(payload);
    if (action.ok) engine.act(runId, action.value);
    else engine.rejectAction(runId, action.error, actionIdentity(payload).id);
  }
}
