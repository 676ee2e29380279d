// The hardware service's configuration, from the environment.
import { z } from 'zod';
import { DeviceId, MOVE_LIMITS, OutputName, mqttClientEnv, parseEnv, portVar, hostVar } from '@labrun/contracts';
import { ACCESSORIES, type Accessory, type OutputMap } from '@labrun/grbl';

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

const OUTPUTS_HINT = `expected outputs as name=accessory pairs such as pump=spindle,valve=flood (accessories: ${ACCESSORIES.join(', ')}), or none`;

/** `pump=spindle,valve=flood`: each lab name once, each GRBL accessory at most once; `none` for no outputs. */
const Outputs = z.string().transform((text, ctx): OutputMap => {
  const outputs = new Map<string, Accessory>();
  if (text.trim() === 'none') return outputs;
  for (const entry of text.split(',').map((part) => part.trim())) {
    const [name = '', accessory = '', ...rest] = entry.split('=').map((part) => part.trim());
    const problem =
      !entry.includes('=') || rest.length > 0
        ? `"${entry}" is not name=accessory`
        : !OutputName.safeParse(name).success
          ? `"${name}" is not an output name (1-64 characters of a-z, 0-9, _ and -)`
          : !ACCESSORIES.includes(accessory as Accessory)
            ? `"${accessory}" is not an accessory GRBL has`
            : outputs.has(name)
              ? `"${name}" is named twice`
              : [...outputs.values()].includes(accessory as Accessory)
                ? `${accessory} is wired to two outputs`
                : null;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: `${problem}: ${OUTPUTS_HINT}` });
      return z.NEVER;
    }
    outputs.set(name, accessory as Accessory);
  }
  return outputs;
});

/** The outputs the built-in simulated device offers unless HARDWARE_OUTPUTS says otherwise: a pump and a valve. */
export const SIMULATOR_OUTPUTS: OutputMap = new Map([
  ['pump', 'spindle'],
  ['valve', 'flood'],
]);

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
  /**
   * The outputs the device offers, in lab words, and the GRBL accessory each is wired to: `spindle` (the spindle
   * PWM, 0..1: a pump), `flood` or `mist` coolant (on/off: a valve). Unset: `pump=spindle,valve=flood` on the
   * built-in simulator, none on a serial port (a real machine's spindle may be a spindle). `none`: no outputs.
   */
  HARDWARE_OUTPUTS: Outputs.optional(),
  /** Prometheus metrics on this port (GET /metrics), when set. */
  HARDWARE_METRICS_PORT: portVar.optional(),
  HARDWARE_METRICS_HOST: hostVar.default('127.0.0.1'),
};

export type HardwareConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = parseEnv(hardwareEnv, env);
  return { ...config, HARDWARE_OUTPUTS: config.HARDWARE_OUTPUTS ?? (config.SERIAL_PATH === 'sim' ? SIMULATOR_OUTPUTS : new Map<string, Accessory>()) };
}
