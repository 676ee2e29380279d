// Topic builders and parsers. Every topic labrun reads or writes is spelled here and nowhere else.
import { z } from 'zod';
import { DeviceId, EngineId, RunId, topicId } from './ids.js';
import { fail, ok, type Result } from './result.js';

export const RUN_TOPIC_KINDS = ['create', 'actions', 'status', 'events', 'commands'] as const;
export type RunTopicKind = (typeof RUN_TOPIC_KINDS)[number];
export const HW_TOPIC_KINDS = ['requests', 'state', 'online'] as const;
export type HwTopicKind = (typeof HW_TOPIC_KINDS)[number];

function checkedId(schema: z.ZodType<string>, id: string): string {
  const parsed = schema.safeParse(id);
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid id');
  return id;
}

const GatewayId = topicId('gateway id');

export const topics = {
  run: (runId: string, kind: RunTopicKind) => `run/${checkedId(RunId, runId)}/${kind}`,
  hw: (deviceId: string, kind: HwTopicKind) => `hw/${checkedId(DeviceId, deviceId)}/${kind}`,
  engineOnline: (engineId: string) => `engine/${checkedId(EngineId, engineId)}/online`,
  /** The engine's retained status document (journal writable, runs held): see EngineStatus. */
  engineStatus: (engineId: string) => `engine/${checkedId(EngineId, engineId)}/status`,
  /** Where a hardware service sends replies to one engine's requests. */
  engineReplies: (engineId: string) => `engine/${checkedId(EngineId, engineId)}/replies`,
  /** The HTTP gateway's retained online flag (`true`, `false` as its last will): beside the engines' flags. */
  gatewayOnline: (gatewayId: string) => `gateway/${checkedId(GatewayId, gatewayId)}/online`,
  /**
   * The device's current run: its status document (retained), as the run's own `run/<id>/status` — so a dashboard,
   * a Node-RED flow or Home Assistant can follow "what is robot 3 doing" without knowing run ids.
   */
  deviceCurrent: (deviceId: string) => `device/${checkedId(DeviceId, deviceId)}/current`,
  /** The Home Assistant bridge's retained online flag (`true`, `false` as its last will): every entity's availability. */
  haOnline: () => 'labrun/ha/online',
  /** Where Home Assistant's Resume / Pause / Stop buttons publish (`resume`, `pause`, `stop`) for a device's current run. */
  haAction: (deviceId: string) => `labrun/ha/${checkedId(DeviceId, deviceId)}/action`,
  /** Retained `true`/`false`, kept by the Home Assistant bridge: whether an online engine serves the device. */
  haEngine: (deviceId: string) => `labrun/ha/${checkedId(DeviceId, deviceId)}/engine`,
  /** Subscriptions. */
  allEngines: () => 'engine/+/online',
  allEngineStatuses: () => 'engine/+/status',
  allDevicesCurrent: () => 'device/+/current',
  allRuns: (kind: RunTopicKind) => `run/+/${kind}`,
  allHw: (kind: HwTopicKind) => `hw/+/${kind}`,
  allHaActions: () => 'labrun/ha/+/action',
};

/** `run/<runId>/<kind>` → its parts, or a readable reason it is not one. */
export function parseRunTopic(topic: string): Result<{ runId: string; kind: RunTopicKind }> {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'run') return fail(`not a run topic: ${JSON.stringify(topic)} (expected run/<runId>/<kind>)`);
  const [, runId = '', kind = ''] = parts;
  if (!(RUN_TOPIC_KINDS as readonly string[]).includes(kind)) return fail(`unknown run topic kind ${JSON.stringify(kind)}: expected one of ${RUN_TOPIC_KINDS.join(', ')}`);
  const id = RunId.safeParse(runId);
  if (!id.success) return fail(id.error.issues[0]?.message ?? 'invalid run id');
  return ok({ runId, kind: kind as RunTopicKind });
}

/** `hw/<deviceId>/<kind>` → its parts, or a readable reason it is not one. */
export function parseHwTopic(topic: string): Result<{ deviceId: string; kind: HwTopicKind }> {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'hw') return fail(`not a hardware topic: ${JSON.stringify(topic)} (expected hw/<deviceId>/<kind>)`);
  const [, deviceId = '', kind = ''] = parts;
  if (!(HW_TOPIC_KINDS as readonly string[]).includes(kind)) return fail(`unknown hardware topic kind ${JSON.stringify(kind)}`);
  const id = DeviceId.safeParse(deviceId);
  if (!id.success) return fail(id.error.issues[0]?.message ?? 'invalid device id');
  return ok({ deviceId, kind: kind as HwTopicKind });
}

/** `engine/<engineId>/online` → the engine's id, or a readable reason it is not one. */
export function parseEngineOnlineTopic(topic: string): Result<{ engineId: string }> {
  const parts = topic.split('/');
  const id = EngineId.safeParse(parts[1]);
  if (parts.length !== 3 || parts[0] !== 'engine' || parts[2] !== 'online' || !id.success) return fail('expected engine/<engineId>/online');
  return ok({ engineId: id.data });
}

/** `engine/<engineId>/status` → the engine's id, or a readable reason it is not one. */
export function parseEngineStatusTopic(topic: string): Result<{ engineId: string }> {
  const parts = topic.split('/');
  const id = EngineId.safeParse(parts[1]);
  if (parts.length !== 3 || parts[0] !== 'engine' || parts[2] !== 'status' || !id.success) return fail('expected engine/<engineId>/status');
  return ok({ engineId: id.data });
}

/** `device/<deviceId>/current` → the device's id, or a readable reason it is not one. */
export function parseDeviceCurrentTopic(topic: string): Result<{ deviceId: string }> {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'device' || parts[2] !== 'current') return fail(`not a device topic: ${JSON.stringify(topic)} (expected device/<deviceId>/current)`);
  const id = DeviceId.safeParse(parts[1]);
  if (!id.success) return fail(id.error.issues[0]?.message ?? 'invalid device id');
  return ok({ deviceId: id.data });
}

/** `labrun/ha/<deviceId>/action` → the device's id, or a readable reason it is not one. */
export function parseHaActionTopic(topic: string): Result<{ deviceId: string }> {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'labrun' || parts[1] !== 'ha' || parts[3] !== 'action')
    return fail(`not a Home Assistant action topic: ${JSON.stringify(topic)} (expected labrun/ha/<deviceId>/action)`);
  const id = DeviceId.safeParse(parts[2]);
  if (!id.success) return fail(id.error.issues[0]?.message ?? 'invalid device id');
  return ok({ deviceId: id.data });
}

/** Whether `topic` matches `filter`, with MQTT's `+` and `#` — which never match a first level starting with `$`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether every topic `requested` can match is also matched by `allowed`: `run/r-1/status` and `run/+/status` lie inside `run/+/status`, `run/#` does not. */
export function filterWithin(requested: string, allowed: string): boolean {
  const r = requested.split('/');
  const a = allowed.split('/');
  // A wildcard first level in `allowed` covers no `$` topics, so it cannot cover a `$` filter.
  if (requested.startsWith('$') && (a[0] === '+' || a[0] === '#')) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return i === a.length - 1;
    if (i >= r.length) return false;
    if (r[i] === '#') return false; // `#` in the request reaches deeper than any non-`#` level allows
    if (a[i] !== '+' && a[i] !== r[i]) return false; // `+` in the request needs `+` here
  }
  return a.length === r.length;
}
