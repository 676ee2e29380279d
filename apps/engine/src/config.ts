// The engine's configuration, from the environment.
import { DeviceId, EngineId, mqttClientEnv, parseEnv } from '@labrun/contracts';
import { z } from 'zod';

/** The topic filters protocols may publish to and wait on: `lab/#` unless LABRUN_PROTOCOL_TOPICS names others. */
const protocolTopics = z
  .string()
  .default('lab/#')
  .transform((text) =>
    text
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
  )
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

export const engineEnv = {
  ...mqttClientEnv,
  ENGINE_ID: EngineId.default('engine-1'),
  /** The device a run uses when its create request names none. */
  DEVICE_ID: DeviceId.default('sim-1'),
  LABRUN_DATA_DIR: z.string().min(1).default('./.labrun'),
  /** How many finished runs the engine keeps (journal and retained status); beyond it the oldest are forgotten. */
  LABRUN_KEEP_RUNS: z.coerce.number({ error: 'expected a whole number of runs' }).int().min(1, { error: 'expected at least 1' }).default(1000),
  /** How many runs may be unfinished at once; a create beyond it is refused with `too-many-runs`. */
  LABRUN_MAX_ACTIVE_RUNS: z.coerce.number({ error: 'expected a whole number of runs' }).int().min(1, { error: 'expected at least 1' }).default(1000),
  /** Where protocols may publish and wait (publish, wait-for): MQTT filters, comma-separated. labrun's own topics never. */
  LABRUN_PROTOCOL_TOPICS: protocolTopics,
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(engineEnv, env);
