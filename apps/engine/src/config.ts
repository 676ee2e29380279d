// The engine's configuration, from the environment.
import { DeviceId, EngineId, mqttClientEnv, parseEnv } from '@labrun/contracts';
import { z } from 'zod';

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
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(engineEnv, env);
