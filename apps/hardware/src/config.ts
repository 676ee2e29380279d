// The hardware service's configuration, from the environment.
import { z } from 'zod';
import { DeviceId, mqttClientEnv, parseEnv } from '@labrun/contracts';

export const hardwareEnv = {
  ...mqttClientEnv,
  DEVICE_ID: DeviceId.default('sim-1'),
  /** `sim` for the built-in GRBL simulator, or the controller's serial port: /dev/ttyUSB0, /dev/ttyACM0, COM3, a pty. */
  SERIAL_PATH: z.string().trim().min(1, { error: 'expected a serial port such as /dev/ttyUSB0, or sim for the built-in simulator' }).default('sim'),
  SERIAL_BAUD: z.coerce
    .number({ error: 'expected a baud rate such as 115200' })
    .int({ error: 'expected a whole number such as 115200' })
    .positive({ error: 'expected a baud rate greater than 0' })
    .default(115200),
};

export type HardwareConfig = ReturnType<typeof loadConfig>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(hardwareEnv, env);
