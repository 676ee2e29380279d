// Device outputs in lab words: the hardware service names GRBL's accessory outputs (HARDWARE_OUTPUTS, e.g.
// `pump=spindle,valve=flood`), and a `set-output` request switches one by that name. What each accessory takes
// and the G-code that switches it are here; GrblController sends it and reads the levels back.
//   spindle  0..1: `M3 S<value × $30>` (the spindle PWM, a pump's speed), `M5` at 0
//   flood    0 or 1: `M8` / `M9`
//   mist     0 or 1: `M7` / `M9` (GRBL built with ENABLE_M7 only; its default build answers M7 with error:20)
// M9 switches flood and mist off together: switching one off while the other stays on sends `M9` and then the
// other's M7 or M8 again (one per line: they share a modal group).
/** A GRBL accessory output a lab output can be wired to. */
export type Accessory = 'spindle' | 'flood' | 'mist';
export const ACCESSORIES: readonly Accessory[] = ['spindle', 'flood', 'mist'];

/** The outputs a device offers: lab name → accessory, in the order configured. */
export type OutputMap = ReadonlyMap<string, Accessory>;

/** A set-output for a name the device does not offer. */
export class UnknownOutput extends Error {
  readonly code = 'unknown-output';
  constructor(output: string, offered: readonly string[]) {
    super(
      offered.length > 0
        ? `there is no output "${output}" on this device: its outputs are ${offered.join(', ')}`
        : `there is no output "${output}" on this device: it offers no outputs (the hardware service's HARDWARE_OUTPUTS names them, e.g. pump=spindle,valve=flood)`,
    );
    this.name = 'UnknownOutput';
  }
}

/** The accessory behind `output`, once `value` is one it takes; throws UnknownOutput or RangeError (bad-request). */
export function outputAccessory(outputs: OutputMap, output: string, value: number): Accessory {
  const accessory = outputs.get(output);
  if (!accessory) throw new UnknownOutput(output, [...outputs.keys()]);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`${output}: value must be from 0 (off) to 1 (fully on), not ${value}`);
  if (accessory !== 'spindle' && value !== 0 && value !== 1) {
    throw new RangeError(`${output} is an on/off output (GRBL's ${accessory} coolant): its value is 0 or 1, not ${value}`);
  }
  return accessory;
}

/** The coolant GRBL has switched on (its modal M7/M8 state). */
export interface Coolant {
  flood: boolean;
  mist: boolean;
}

/**
 * The G-code lines that set `accessory` to `value`, given the coolant on now and the spindle's top speed ($30,
 * rpm): the PWM level is value × $30.
 */
export function outputLines(accessory: Accessory, value: number, coolant: Coolant, maxRpm: number): string[] {
  // S with at most 3 decimals, as GRBL reads numbers; between 0.001 and $30 it never prints an exponent.
  if (accessory === 'spindle') return value === 0 ? ['M5'] : [`M3 S${Number((value * maxRpm).toFixed(3))}`];
  const on = accessory === 'flood' ? 'M8' : 'M7';
  if (value === 1) return [on];
  const other = accessory === 'flood' ? (coolant.mist ? 'M7' : null) : coolant.flood ? 'M8' : null;
  return other ? ['M9', other] : ['M9'];
}

/** The coolant GRBL has on once `lines` (from outputLines) have run. */
export function coolantAfter(lines: readonly string[], coolant: Coolant): Coolant {
  let next = { ...coolant };
  for (const line of lines) {
    if (line === 'M9') next = { flood: false, mist: false };
    else if (line === 'M8') next.flood = true;
    else if (line === 'M7') next.mist = true;
  }
  return next;
}

/**
 * Every output's level as GRBL reports it: a spindle output is its reported speed (FS) over $30, 0..1 to the
 * controller's resolution; a coolant output is 1 while `A:` shows it on.
 */
export function outputLevels(outputs: OutputMap, report: { spindleRpm: number; flood: boolean; mist: boolean }, maxRpm: number): Record<string, number> {
  const levels: Record<string, number> = {};
  for (const [name, accessory] of outputs) {
    if (accessory === 'spindle') levels[name] = maxRpm > 0 ? Math.min(1, Math.round((report.spindleRpm / maxRpm) * 1000) / 1000) : 0;
    else levels[name] = (accessory === 'flood' ? report.flood : report.mist) ? 1 : 0;
  }
  return levels;
}
