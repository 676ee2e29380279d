// The engine's configuration, from the environment.
import { DeviceId, EngineId, mqttClientEnv, parseEnv } from '@labrun/contracts';
import { z } from 'zod';

export const engineEnv = {
  ...mqttClientEnv,
  ENGINE_ID: EngineId.default('engine-1'),
  /** The device a run uses when its create request names none. */
  DEVICE_ID: DeviceId.default('sim-1'),
  LABRUN_DATA_DIR: z.string().min(1).default('./.labrun'),
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(engineEnv, env);
