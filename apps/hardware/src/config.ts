// The hardware service's configuration, from the environment.
import { z } from 'zod';
import { DeviceId, MOVE_LIMITS, mqttClientEnv, parseEnv } from '@labrun/contracts';

const ORIGIN_HINT = 'expected the machine position of the deck origin as x,y,z in mm, such as -299,-299,-99';

/** `x,y,z` in mm: three finite numbers within the contract's coordinate range. */
const DeckOrigin = z.string().transform((text, ctx) => {
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map((part) => (/^[-+]?(\d+\.?\d*|\.\d+)$/.test(part) ? Number(part) : Number.NaN));
  if (parts.length !== 3 || numbers.some((n) => !Number.isFinite(n) || Math.abs(n) > MOVE_LIMITS.coordinateMm)) {
    ctx.addIssue({ code: 'custom', message: `${ORIGIN_HINT}, each within ±${MOVE_LIMITS.coordinateMm}` });
    return z.NEVER;
  }
  const [x, y, zMm] = numbers as [number, number, number];
  return { x, y, z: zMm };
});

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
  /**
   * The device profile: the machine position (GRBL's MPos, mm) of the deck origin, the point protocols call
   * 0,0,0. Unset: the position GRBL's homing cycle leaves the machine at (from its $23, $27, $130-$132), so home
   * is 0,0,0 — on the built-in simulator -299,-299,-99.
   */
  DEVICE_ORIGIN: DeckOrigin.optional(),
};

export type HardwareConfig = ReturnType<typeof loadConfig>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(hardwareEnv, env);
