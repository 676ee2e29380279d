// Home Assistant MQTT discovery documents for one labrun device: a sensor for its current run and Resume / Pause /
// Stop buttons, grouped as one Home Assistant device. Pure: what to publish where, for main.ts to publish (retained).
// Format: https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery (single-component discovery,
// `<prefix>/<component>/<node_id>/<object_id>/config`).
import { createHash } from 'node:crypto';
import { RUN_STATUSES, topics } from '@labrun/contracts';

/** The buttons, in the order Home Assistant shows them, and the action each press sends to the current run. */
export const BUTTONS = [
  { objectId: 'resume', name: 'Resume', action: 'resume', icon: 'mdi:play' },
  { objectId: 'pause', name: 'Pause', action: 'pause', icon: 'mdi:pause' },
  { objectId: 'stop', name: 'Stop', action: 'stop', icon: 'mdi:stop' },
] as const;
export type PressAction = (typeof BUTTONS)[number]['action'];
export const PRESS_ACTIONS: readonly PressAction[] = BUTTONS.map((button) => button.action);

/** Every labrun node id starts so; the bridge removes only configs under node ids of its own. */
const NODE_PREFIX = 'labrun_';

/**
 * The device's node id in discovery topics, which Home Assistant allows only `[a-zA-Z0-9_-]` in: the device id
 * itself when it fits, else its letters and digits with a hash of the whole id, so two ids never share one.
 */
export function nodeId(deviceId: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(deviceId)) return `${NODE_PREFIX}${deviceId}`;
  const hash = createHash('sha256').update(deviceId).digest('hex').slice(0, 8);
  return `${NODE_PREFIX}${deviceId.replace(/[^A-Za-z0-9_-]+/g, '_')}_${hash}`;
}

/** The entity id Home Assistant gives an entity at first (`sensor.labrun_robot_1_run`): lower case, digits and _ only. */
function defaultEntityId(component: string, deviceId: string, objectId: string): string {
  const slug = `labrun_${deviceId}_${objectId}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${component}.${slug}`;
}

/** The Home Assistant device every entity of one labrun device belongs to. */
export function haDevice(deviceId: string) {
  return { identifiers: [`labrun_${deviceId}`], name: deviceId, manufacturer: 'labrun', model: 'GRBL motion controller' };
}

const ORIGIN = { name: 'labrun' };

/**
 * Available only while all three say so: this bridge is up (else the buttons would go nowhere), the device's
 * hardware service is up, and an online engine serves the device (the bridge keeps that flag, `labrun/ha/<id>/engine`).
 */
export function availability(deviceId: string) {
  const flag = (topic: string) => ({ topic, payload_available: 'true', payload_not_available: 'false' });
  return {
    availability: [flag(topics.haOnline()), flag(topics.hw(deviceId, 'online')), flag(topics.haEngine(deviceId))],
    availability_mode: 'all',
  };
}

/**
 * The run sensor's attributes, from the current run's status document (Jinja, as Home Assistant renders it): why it
 * waits (the pause's message, source, who, since when), what failed, and what can be done now.
 */
/**
 * A button is also available only while the device's current run would accept its action (`allowedActions` of
 * `device/<id>/current`): Home Assistant greys out Resume on a running run instead of sending a press the engine
 * refuses. No current run, or a payload that is not a status document (a pruned run's empty one): unavailable.
 */
export interface AvailabilityEntry {
  topic: string;
  payload_available: string;
  payload_not_available: string;
  value_template?: string;
}

export function buttonAvailability(deviceId: string, action: PressAction): { availability: AvailabilityEntry[]; availability_mode: string } {
  const { availability: flags, availability_mode } = availability(deviceId);
  const allowed = {
    topic: topics.deviceCurrent(deviceId),
    value_template: `{{ 'true' if value_json is defined and value_json.allowedActions is defined and '${action}' in value_json.allowedActions else 'false' }}`,
    payload_available: 'true',
    payload_not_available: 'false',
  };
  return { availability: [...flags, allowed], availability_mode };
}

export const RUN_ATTRIBUTES_TEMPLATE = [
  '{% set run = value_json %}{{ {',
  '"run_id": run.runId, "run_name": run.name, "engine_id": run.engineId | default(none),',
  '"pause_message": run.pause.message if run.pause else none, "pause_source": run.pause.source if run.pause else none,',
  '"paused_by": run.pause.by if run.pause else none, "since": run.pause.since if run.pause else none,',
  '"error": run.error.message if run.error else none, "error_code": run.error.code if run.error else none,',
  '"allowed_actions": run.allowedActions, "completed": run.progress.completed, "total": run.progress.total,',
  '"started_at": run.startedAt, "completed_at": run.completedAt, "updated_at": run.updatedAt',
  '} | tojson }}',
].join(' ');

export const RUN_STATE_TEMPLATE = '{{ value_json.status }}';

export interface DiscoveryMessage {
  topic: string;
  /** The config document; its JSON text is the retained payload. */
  config: Record<string, unknown>;
}

/** The discovery configs of one labrun device: its run sensor and its three buttons. */
export function deviceConfigs(prefix: string, deviceId: string): DiscoveryMessage[] {
  const node = nodeId(deviceId);
  const common = { device: haDevice(deviceId), origin: ORIGIN, ...availability(deviceId), qos: 1 };
  const current = topics.deviceCurrent(deviceId);
  const sensor: DiscoveryMessage = {
    topic: `${prefix}/sensor/${node}/run/config`,
    config: {
      name: 'Run',
      unique_id: `labrun_${deviceId}_run`,
      default_entity_id: defaultEntityId('sensor', deviceId, 'run'),
      icon: 'mdi:robot-industrial',
      device_class: 'enum',
      options: [...RUN_STATUSES],
      state_topic: current,
      value_template: RUN_STATE_TEMPLATE,
      json_attributes_topic: current,
      json_attributes_template: RUN_ATTRIBUTES_TEMPLATE,
      ...common,
    },
  };
  const buttons = BUTTONS.map((button): DiscoveryMessage => ({
    topic: `${prefix}/button/${node}/${button.objectId}/config`,
    config: {
      name: button.name,
      unique_id: `labrun_${deviceId}_${button.objectId}`,
      default_entity_id: defaultEntityId('button', deviceId, button.objectId),
      icon: button.icon,
      command_topic: topics.haAction(deviceId),
      payload_press: button.action,
      retain: false,
      ...common,
      ...buttonAvailability(deviceId, button.action),
    },
  }));
  return [sensor, ...buttons];
}

/** Which labrun device a retained config under the prefix is for, or null when it is not a labrun config. */
export function labrunConfigDevice(prefix: string, topic: string, payload: Buffer): string | null {
  if (!topic.startsWith(`${prefix}/`) || !topic.endsWith('/config')) return null;
  const levels = topic.slice(prefix.length + 1).split('/');
  if (levels.length !== 4 || !levels[1]!.startsWith(NODE_PREFIX) || payload.byteLength === 0 || payload.byteLength > 64 * 1024) return null;
  try {
    const config = JSON.parse(payload.toString('utf8')) as { device?: { manufacturer?: unknown; identifiers?: unknown } };
    const identifier = Array.isArray(config.device?.identifiers) ? config.device.identifiers[0] : undefined;
    if (config.device?.manufacturer !== 'labrun' || typeof identifier !== 'string' || !identifier.startsWith('labrun_')) return null;
    return identifier.slice('labrun_'.length);
  } catch {
    return null;
  }
}
