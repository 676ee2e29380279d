// The engine's configuration, from the environment.
import { DeviceId, EngineId, mqttClientEnv, parseEnv } from '@labrun/contracts';
import { z } from 'zod';

export const engineEnv = {
  ...mqttClientEnv,
  ENGINE_ID: EngineId.default('engine-1'),
  /** The device a run uses when its create request names none. */
  DEVICE_ID: DeviceId.default('sim-1'),
  LABRUN_DATA_DIR: z.string().min(1).default('./.labrun'),
  /** How many runs the engine keeps (journal and retained status); the oldest finished ones go first. */
  LABRUN_KEEP_RUNS: z.coerce.number({ error: 'expected a whole number of runs' }).int().min(1, { error: 'expected at least 1' }).default(1000),
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(engineEnv, env);
