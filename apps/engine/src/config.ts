// The engine's configuration, from the environment.
import { DeviceId, EngineId, mqttClientEnv, parseEnv, portVar, hostVar } from '@labrun/contracts';
import { z } from 'zod';

/** `a, b,,c` → `['a', 'b', 'c']`: a comma-separated list, spaces and empty items dropped. */
const commaList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** The topic filters protocols may publish to and wait on: `lab/#` unless LABRUN_PROTOCOL_TOPICS names others. */
const protocolTopics = z
  .string()
  .default('lab/#')
  .transform(commaList)
  .refine((filters) => filters.length > 0, { error: 'expected at least one topic filter, like lab/#' })
  .refine(
    (filters) =>
      filters.every(
        (f) =>
          !f.startsWith('$') &&
          !f.includes('\u0000') &&
          f.split('/').every((level, i, all) => (level !== '#' || i === all.length - 1) && (!level.includes('#') || level === '#') && (!level.includes('+') || level === '+')),
      ),
    {
      error: 'expected MQTT topic filters separated by commas, like lab/#,plate-reader/+ (+ and # alone in their level, # last, no $ topics)',
    },
  );

/** ENGINE_DEVICES: device ids, comma-separated, each a valid device id, none twice. */
const deviceList = z
  .string()
  .transform(commaList)
  .refine((devices) => devices.length > 0, { error: 'expected at least one device id, like robot-1,robot-2' })
  .refine((devices) => devices.every((d) => DeviceId.safeParse(d).success), {
    error: "expected device ids separated by commas, like robot-1,robot-2 (none with '+', '#', '/' or control characters)",
  })
  .refine((devices) => new Set(devices).size === devices.length, { error: 'names a device twice' })
  .optional();

export const engineEnv = {
  ...mqttClientEnv,
  ENGINE_ID: EngineId.default('engine-1'),
  /** The device a run uses when its create request names none. */
  DEVICE_ID: DeviceId.default('sim-1'),
  /** The devices this engine serves (carries out the runs of), comma-separated. Default: DEVICE_ID alone. */
  ENGINE_DEVICES: deviceList,
  /**
   * How long after connecting the engine listens to the other engines' announcements before it decides which of its
   * devices it serves (and answers creates and actions); also how long the leader waits before answering unknown-run.
   */
  LABRUN_FLEET_SETTLE_MS: z.coerce.number({ error: 'expected a number of milliseconds' }).int().min(0).max(10_000, { error: 'expected at most 10000' }).default(500),
  LABRUN_DATA_DIR: z.string().min(1).default('./.labrun'),
  /** How many finished runs the engine keeps (journal and retained status); beyond it the oldest are forgotten. */
  LABRUN_KEEP_RUNS: z.coerce.number({ error: 'expected a whole number of runs' }).int().min(1, { error: 'expected at least 1' }).default(1000),
  /** How many runs may be unfinished at once; a create beyond it is refused with `too-many-runs`. */
  LABRUN_MAX_ACTIVE_RUNS: z.coerce.number({ error: 'expected a whole number of runs' }).int().min(1, { error: 'expected at least 1' }).default(1000),
  /** Where protocols may publish and wait (publish, wait-for): MQTT filters, comma-separated. labrun's own topics never. */
  LABRUN_PROTOCOL_TOPICS: protocolTopics,
  /** Serve Prometheus metrics (`GET /metrics`) on this port; unset: no metrics server. 0 picks a free port (tests). */
  METRICS_PORT: portVar.optional(),
  /** Where the metrics server listens. Its answers carry no run ids and need no token: keep it on a private network. */
  METRICS_HOST: hostVar.default('127.0.0.1'),
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = parseEnv(engineEnv, env);
  const devices = config.ENGINE_DEVICES ?? [config.DEVICE_ID];
  // A create that names no device is for DEVICE_ID when this engine serves it, else for the first it serves.
  const defaultDeviceId = devices.includes(config.DEVICE_ID) ? config.DEVICE_ID : devices[0]!;
  return { ...config, devices, defaultDeviceId };
}
