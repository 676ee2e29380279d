// Service users held to devices: an engine of a fleet (or a hardware service) whose user has `devices` in the auth
// file may publish only what concerns those devices — on top of the service role's topics (acl.ts), never instead.
// Topics that name the device (hw/<d>/…, device/<d>/current) are checked by their name; run topics by what the
// broker knows of the run: the device its status (or its run.created event) names, kept in a RunDevices map that
// the broker fills from the publishes it lets through. Pure: the broker (apps/broker/src/auth.ts) asks and notes,
// docs/security.md ("Engines in a fleet") says the same in words.
import { DeviceId, parseDeviceCurrentTopic, parseHwTopic, parseRunTopic } from '@labrun/contracts';

/** What the broker knows of a run: the device it is on, and whether its retained status was cleared since. */
export interface RunDevice {
  deviceId: string;
  cleared: boolean;
}

/** What a publish that is let through teaches the broker about a run. */
export type RunNote = { runId: string; deviceId: string } | { runId: string; cleared: true };

export type DeviceVerdict = { allowed: true; note?: RunNote } | { allowed: false; why: string };

/**
 * The device of each run the broker has seen a status for, at most `max` runs: the run heard of longest ago goes
 * first (a run's every status refreshes it, so only runs long finished and silent are forgotten).
 */
export class RunDevices {
  private readonly runs = new Map<string, RunDevice>();

  constructor(readonly max = 100_000) {}

  get size(): number {
    return this.runs.size;
  }

  get(runId: string): RunDevice | undefined {
    return this.runs.get(runId);
  }

  note(note: RunNote): void {
    const known = this.runs.get(note.runId);
    const next = 'deviceId' in note ? { deviceId: note.deviceId, cleared: false } : known ? { deviceId: known.deviceId, cleared: true } : undefined;
    if (!next) return;
    this.runs.delete(note.runId); // to the end: the most recently heard of
    this.runs.set(note.runId, next);
    if (this.runs.size > this.max) this.runs.delete(this.runs.keys().next().value!);
  }
}

/** Whether `devices` is a list of device ids, none twice: a message why not, or undefined. */
export function deviceListProblem(devices: readonly string[]): string | undefined {
  if (devices.length === 0) return 'expected at least one device id (leave "devices" out for a user that may act for every device)';
  for (const d of devices) {
    const parsed = DeviceId.safeParse(d);
    if (!parsed.success) return `not a valid device id ${JSON.stringify(d)}: ${parsed.error.issues[0]?.message}`;
  }
  const twice = devices.find((d, i) => devices.indexOf(d) !== i);
  if (twice !== undefined) return `names device ${twice} twice`;
  return undefined;
}

const MAX_LISTED = 5;
const listOf = (devices: ReadonlySet<string>) => {
  const all = [...devices];
  return all.length > MAX_LISTED ? `${all.slice(0, MAX_LISTED).join(', ')}, …` : all.join(', ');
};

/** The JSON object `payload` holds, or a reason it is none. */
function jsonObject(payload: Buffer | string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}

/** The document's `deviceId`, if it is a valid device id; otherwise a reason. */
function deviceIdIn(document: Record<string, unknown> | string, what: string): { deviceId: string } | { why: string } {
  if (typeof document === 'string') return { why: `the ${what} is ${document}, so it names no device` };
  const parsed = DeviceId.safeParse(document.deviceId);
  if (!parsed.success) return { why: `the ${what} names no valid deviceId` };
  return { deviceId: parsed.data };
}

const refuse = (why: string): DeviceVerdict => ({ allowed: false, why });
const ALLOWED: DeviceVerdict = { allowed: true };

/**
 * May a service user restricted to `devices` publish `payload` on `topic`? (Its role allows the topic: that is
 * asked first, in mayPublish.) `runs` is what the broker knows of runs; a verdict that allows may carry a note for
 * it, which the broker makes once the publish goes through. An empty payload clears a retained message.
 */
export function devicePublish(devices: ReadonlySet<string>, topic: string, payload: Buffer | string, runs: Pick<RunDevices, 'get'>): DeviceVerdict {
  const notOurs = (deviceId: string) => `device ${deviceId} is not one of this user's devices (${listOf(devices)})`;
  const empty = payload.length === 0;

  if (topic.startsWith('hw/')) {
    const hw = parseHwTopic(topic);
    if (!hw.ok) return refuse(hw.error);
    return devices.has(hw.value.deviceId) ? ALLOWED : refuse(notOurs(hw.value.deviceId));
  }
  if (topic.startsWith('device/')) {
    const device = parseDeviceCurrentTopic(topic);
    if (!device.ok) return refuse(device.error);
    return devices.has(device.value.deviceId) ? ALLOWED : refuse(notOurs(device.value.deviceId));
  }
  if (topic.startsWith('engine/') && topic.endsWith('/status')) return engineStatus(devices, payload, notOurs);
  if (!topic.startsWith('run/')) return ALLOWED; // lab/#, online flags, replies: the role's rules only

  const run = parseRunTopic(topic);
  if (!run.ok) return refuse(run.error);
  const { runId, kind } = run.value;
  const known = runs.get(runId);
  /** The run is on one of this user's devices, as far as the broker knows; otherwise why not. */
  const ours = (): string | undefined => {
    if (!known) return `the broker has seen no status of run ${runId} on this user's devices`;
    return devices.has(known.deviceId) ? undefined : `run ${runId} is on device ${known.deviceId}, not one of this user's devices (${listOf(devices)})`;
  };
  /** A status or a run.created naming `deviceId`: the user's device, and no live run of another device's overwritten. */
  const claim = (deviceId: string): DeviceVerdict => {
    if (!devices.has(deviceId)) return refuse(notOurs(deviceId));
    if (known && !known.cleared && !devices.has(known.deviceId)) return refuse(`run ${runId} is on device ${known.deviceId}, not one of this user's devices (${listOf(devices)})`);
    return { allowed: true, note: { runId, deviceId } };
  };

  switch (kind) {
    case 'status': {
      if (empty) {
        const why = ours();
        return why === undefined ? { allowed: true, note: { runId, cleared: true } } : refuse(`clearing a run's status: ${why}`);
      }
      const device = deviceIdIn(jsonObject(payload), 'status document');
      return 'why' in device ? refuse(device.why) : claim(device.deviceId);
    }
    case 'commands': {
      const why = ours();
      return why === undefined ? ALLOWED : refuse(why);
    }
    case 'events': {
      const event = jsonObject(payload);
      if (typeof event === 'string') return refuse(`the event is ${event}`);
      // An engine answers a create it does not take (another engine has that run id, nobody serves the device).
      if (event.type === 'run.rejected') return ALLOWED;
      if (event.type === 'run.created') {
        const device = deviceIdIn(event, 'run.created event');
        return 'why' in device ? refuse(device.why) : claim(device.deviceId);
      }
      // The fleet's leader answers an action for a run no engine holds (unknown-run).
      if (event.type === 'action.rejected' && (!known || known.cleared)) return ALLOWED;
      const why = ours();
      return why === undefined ? ALLOWED : refuse(why);
    }
    case 'create': {
      const create = jsonObject(payload);
      const device = deviceIdIn(create, 'create request');
      if ('why' in device) return refuse(`${device.why}: a user held to devices must name one of its own`);
      return devices.has(device.deviceId) ? ALLOWED : refuse(notOurs(device.deviceId));
    }
    default: {
      // actions
      const why = ours();
      return why === undefined ? ALLOWED : refuse(why);
    }
  }
}

/** engine/<id>/status: every device it announces serving or standing by for is one of the user's. */
function engineStatus(devices: ReadonlySet<string>, payload: Buffer | string, notOurs: (deviceId: string) => string): DeviceVerdict {
  if (payload.length === 0) return ALLOWED;
  const status = jsonObject(payload);
  if (typeof status === 'string') return refuse(`the engine status is ${status}`);
  const announced: unknown[] = [];
  if (status.devices !== undefined) {
    if (!Array.isArray(status.devices)) return refuse('the engine status has devices that are not a list');
    announced.push(...(status.devices as unknown[]));
  }
  if (status.standby !== undefined) {
    if (!Array.isArray(status.standby)) return refuse('the engine status has a standby that is not a list');
    for (const entry of status.standby as unknown[]) announced.push(typeof entry === 'object' && entry !== null ? (entry as { deviceId?: unknown }).deviceId : entry);
  }
  for (const deviceId of announced) {
    if (typeof deviceId !== 'string') return refuse('the engine status names a device that is not a string');
    if (!devices.has(deviceId)) return refuse(`announces ${notOurs(deviceId)}`);
  }
  return ALLOWED;
}

/**
 * What a status publish by anyone teaches the broker (so a restricted user cannot take over another device's run):
 * a note, or undefined for anything that is not a readable run status.
 */
export function statusNote(topic: string, payload: Buffer | string): RunNote | undefined {
  if (!topic.startsWith('run/') || !topic.endsWith('/status')) return undefined;
  const run = parseRunTopic(topic);
  if (!run.ok) return undefined;
  if (payload.length === 0) return { runId: run.value.runId, cleared: true };
  const device = deviceIdIn(jsonObject(payload), 'status document');
  return 'why' in device ? undefined : { runId: run.value.runId, deviceId: device.deviceId };
}
