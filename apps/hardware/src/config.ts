// The hardware service's configuration, from the environment.
import { z } from 'zod';
import { DeviceId, mqttClientEnv, parseEnv } from '@labrun/contracts';

export const hardwareEnv = {
  ...mqttClientEnv,
  DEVICE_ID: DeviceId.default('sim-1'),
  SERIAL_PATH: z
    .string()
    .refine((path) => path === 'sim', {
      error: 'the GRBL serial driver is not in this version of labrun yet; use SERIAL_PATH=sim for the built-in simulator',
    })
    .default('sim'),
  SERIAL_BAUD: z.coerce
    .number({ error: 'expected a baud rate such as 115200' })
    .int({ error: 'expected a whole number such as 115200' })
    .positive({ error: 'expected a baud rate greater than 0' })
    .default(115200),
};

export type HardwareConfig = ReturnType<typeof loadConfig>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(hardwareEnv, env);
