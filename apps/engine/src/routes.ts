// Inbound MQTT messages → engine calls. Every payload is decoded through the contract; anything that
// cannot be read is answered with a rejection event (or, where there is no one to answer, a log line).
import { actionIdentity, decodeAction, decodeCreateRun, decodeOnlineFlag, decodePayload, HARDWARE_LIMITS, HardwareState, parseHwTopic, parseRunTopic } from '@labrun/contracts';
import type { Engine, InterlockWatch } from '@labrun/engine';
import type { Logger } from '@labrun/service';
import type { Fleet } from './fleet.js';
import type { MqttHardwarePort } from './hardware-port.js';

export interface Routes {
  engine: Engine;
  hardware: MqttHardwarePort;
  devices: InterlockWatch;
  fleet: Fleet;
  /** Another engine's announcement changed: work out again who serves what. */
  fleetChanged(): void;
  /** The device a create that names none is for (the engine's DEVICE_ID). */
  defaultDeviceId: string;
  /**
   * How long the leader waits before answering `unknown-run` for a run it has not seen: another engine may have
   * created it a moment ago, its status not here yet.
   */
  unknownRunGraceMs: number;
  log: Logger;
}

export function routeMessage(routes: Routes, topic: string, payload: Buffer, retained: boolean): void {
  const { engine, hardware, devices, fleet, log } = routes;
  if (topic === hardware.replyTopic) return hardware.handleReply(payload);
  if (fleet.handle(topic, payload)) return routes.fleetChanged();

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
  if (kind === 'status') {
    // Another engine's run (its status names it): this engine leaves it alone, and never answers for it.
    if (!engine.get(runId)) fleet.noteRunStatus(runId, payload);
    return;
  }
  if (retained) {
    // A retained create or action would be replayed to the engine on every reconnect: refuse to act on it.
    log.warn(`ignored a retained message on ${topic}: publish creates and actions without the retain flag`);
    return;
  }
  if (kind === 'create') routeCreate(routes, runId, payload);
  else if (kind === 'actions') routeAction(routes, runId, payload);
}

/**
 * A create is taken by the engine serving its device; one for a device no online engine serves, or that cannot be
 * read, is answered by the leader alone — so every create is answered exactly once.
 */
function routeCreate({ engine, fleet, defaultDeviceId, log }: Routes, runId: string, payload: Buffer): void {
  const request = decodeCreateRun(payload);
  if (!request.ok) {
    if (fleet.isLeader) engine.rejectCreate(runId, request.error);
    return;
  }
  // A create that names no device is the leader's, for its own DEVICE_ID (a fleet's creates should name one).
  const deviceId = request.value.deviceId ?? (fleet.isLeader ? defaultDeviceId : null);
  if (deviceId === null) return;
  if (fleet.serves(deviceId)) {
    const holder = engine.get(runId) ? undefined : fleet.runHolder(runId);
    if (holder) engine.refuseCreate(runId, 'run-exists', `engine ${holder} already has a run with that id`);
    else engine.create(runId, request.value);
    return;
  }
  const servedBy = fleet.servedBy(deviceId);
  if (servedBy !== null) {
    log.debug('a create for a device another engine serves', { runId, deviceId, servedBy });
    return;
  }
  if (!fleet.isLeader) return;
  const online = [...new Set([...fleet.devices, ...fleet.otherDevices()])].sort();
  engine.refuseCreate(
    runId,
    'unknown-device',
    `no online engine serves device ${deviceId}${request.value.deviceId === undefined ? ' (the create named no device: name one with "deviceId")' : ''}; the devices served now are ${online.length ? online.join(', ') : 'none'}`,
  );
}

/** An action is the business of the engine holding the run; one for a run no engine holds is answered by the leader. */
function routeAction(routes: Routes, runId: string, payload: Buffer): void {
  const { engine, fleet } = routes;
  const answer = () => {
    const action = decodeAction(payload);
    if (action.ok) engine.act(runId, action.value);
    else engine.rejectAction(runId, action.error, actionIdentity(payload).id);
  };
  if (engine.get(runId)) return answer();
  if (fleet.runHolder(runId) || !fleet.isLeader) return;
  // The run may have been created by another engine a moment ago: answer unknown-run only if it is still unknown.
  setTimeout(() => {
    if (engine.get(runId) || (!fleet.runHolder(runId) && fleet.isLeader)) answer();
  }, routes.unknownRunGraceMs).unref();
}
