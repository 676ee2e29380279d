// GRBL's `$N` settings: the table `$$` prints, the checks `$N=value` applies before storing (settings.c in GRBL
// 1.1), and the simulated machine's defaults. GRBL keeps these in EEPROM; here they live as long as the simulator.
import { ERROR, STATUS_OK, type Status } from './codes.js';

/** How a setting is stored and printed: a byte (`$10=3`), a float with 3 decimals (`$11=0.010`), or an rpm (`$30=1000`). */
type Kind = 'byte' | 'float' | 'rpm';

/** Every setting GRBL 1.1 has, in the order `$$` prints them. */
const KINDS: ReadonlyArray<[number, Kind]> = [
  [0, 'byte'],
  [1, 'byte'],
  [2, 'byte'],
  [3, 'byte'],
  [4, 'byte'],
  [5, 'byte'],
  [6, 'byte'],
  [10, 'byte'],
  [11, 'float'],
  [12, 'float'],
  [13, 'byte'],
  [20, 'byte'],
  [21, 'byte'],
  [22, 'byte'],
  [23, 'byte'],
  [24, 'float'],
  [25, 'float'],
  [26, 'byte'],
  [27, 'float'],
  [30, 'rpm'],
  [31, 'rpm'],
  [32, 'byte'],
  [100, 'float'],
  [101, 'float'],
  [102, 'float'],
  [110, 'float'],
  [111, 'float'],
  [112, 'float'],
  [120, 'float'],
  [121, 'float'],
  [122, 'float'],
  [130, 'float'],
  [131, 'float'],
  [132, 'float'],
];
const KIND = new Map(KINDS);

/**
 * The simulated machine: a small lab gantry, 300 × 300 × 100 mm, homed towards the minimum end of every axis.
 * Its geometry is GRBL 1.1's as shipped (built without HOMING_FORCE_SET_ORIGIN): machine zero is the + end of
 * every axis and the travel is -$13x…0. Where these settings differ from GRBL's factory defaults (defaults.h) it
 * is because this machine is configured so:
 * - `$10=3`: status reports give machine position (bit 0) and the buffer state `Bf:` (bit 1), so senders see
 *   how full the planner and the serial buffer are.
 * - `$21=1` hard limits and `$22=1` homing are on, so the controller starts in Alarm until `$H` or `$X`.
 * - `$23=7`: every axis homes towards its minimum end, so homing leaves it at MPos -$13x + $27
 *   (-299, -299, -99): a lab deck's origin is its front-left-bottom corner. GRBL's factory `$23=0` homes
 *   towards the + end and leaves every axis at MPos -$27.
 * - rates, accelerations, travel and homing speeds are those of a light lab gantry, not of GRBL's example mill.
 */
export const SIMULATOR_DEFAULTS: Readonly<Record<number, number>> = {
  0: 10,
  1: 25,
  2: 0,
  3: 0,
  4: 0,
  5: 0,
  6: 0,
  10: 3,
  11: 0.01,
  12: 0.002,
  13: 0,
  20: 0,
  21: 1,
  22: 1,
  23: 7,
  24: 200,
  25: 2000,
  26: 25,
  27: 1,
  30: 1000,
  31: 0,
  32: 0,
  100: 100,
  101: 100,
  102: 100,
  110: 10000,
  111: 10000,
  112: 5000,
  120: 500,
  121: 500,
  122: 500,
  130: 300,
  131: 300,
  132: 100,
};

export class Settings {
  private readonly values = new Map<number, number>();

  /** `factory` is what `$RST=$` restores: the simulator's defaults with the options' overrides applied. */
  constructor(private readonly factory: Readonly<Record<number, number>>) {
    this.restoreDefaults();
  }

  restoreDefaults(): void {
    for (const [n] of KINDS) this.values.set(n, this.factory[n] ?? SIMULATOR_DEFAULTS[n] ?? 0);
  }

  get(n: number): number {
    return this.values.get(n) ?? 0;
  }

  /** A boolean setting ($20, $21, $22…) or one bit of a mask setting ($10, $23). */
  flag(n: number, bit = 0): boolean {
    return ((this.get(n) >> bit) & 1) === 1;
  }

  get statusMask() {
    return this.get(10);
  }
  get reportInches() {
    return this.flag(13);
  }
  get softLimits() {
    return this.flag(20);
  }
  get hardLimits() {
    return this.flag(21);
  }
  get homingEnabled() {
    return this.flag(22);
  }
  /** Per axis, mm/min. */
  maxRate(axis: number) {
    return this.get(110 + axis);
  }
  /** Per axis, mm/s². */
  acceleration(axis: number) {
    return this.get(120 + axis);
  }
  maxTravel(axis: number) {
    return this.get(130 + axis);
  }
  stepsPerMm(axis: number) {
    return this.get(100 + axis);
  }

  /**
   * The machine coordinates a homed axis may reach, whichever way it homes: -max travel…0, machine zero at the
   * + end (GRBL's limits_soft_check() and system_check_travel_limits() without HOMING_FORCE_SET_ORIGIN).
   */
  travel(axis: number): { min: number; max: number } {
    return { min: -this.maxTravel(axis), max: 0 };
  }

  /**
   * Where the homing cycle leaves an axis (limits_go_home()): the switch is at the end $23 says, and the axis
   * pulls off it by $27. Towards - ($23 bit set): -max travel + pull-off; towards +: -pull-off.
   */
  homePosition(axis: number): number {
    return this.flag(23, axis) ? -this.maxTravel(axis) + this.get(27) : -this.get(27);
  }

  /** Where the homing switch of an axis is, in machine coordinates once homed: the end of the travel $23 says. */
  homeSwitch(axis: number): number {
    return this.flag(23, axis) ? -this.maxTravel(axis) : 0;
  }

  /** `$N=value`, checked as GRBL's settings_store_global_setting() does. */
  store(n: number, value: number): Status {
    if (value < 0) return ERROR.negativeValue;
    const kind = KIND.get(n);
    if (kind === undefined) return ERROR.invalidStatement;
    // Byte settings are truncated to an unsigned byte, as GRBL stores them.
    const byte = Math.trunc(value) & 0xff;
    switch (n) {
      case 0:
        if (Math.trunc(value) < 3) return ERROR.stepPulseMin;
        break;
      case 20:
        if (byte && !this.homingEnabled) return ERROR.softLimitError;
        break;
      case 22:
        if (!byte) this.values.set(20, 0); // soft limits need homing: GRBL turns them off with it
        break;
    }
    const isFlag = [4, 5, 6, 13, 20, 21, 22, 32].includes(n);
    this.values.set(n, kind === 'byte' ? (isFlag ? (byte ? 1 : 0) : byte) : value);
    return STATUS_OK;
  }

  /** The `$$` listing, one `$N=value` per line, formatted as GRBL prints it. */
  listing(): string[] {
    return KINDS.map(([n, kind]) => {
      const value = this.get(n);
      const text = kind === 'byte' ? String(value) : kind === 'rpm' ? printFloat(value, 0) : printFloat(value, 3);
      return `$${n}=${text}`;
    });
  }
}

/**
 * GRBL's printFloat(): a fixed number of decimals, rounded half up, with a `-` for any negative value (so a tiny
 * negative prints as `-0.000`, as on the real controller).
 */
export function printFloat(n: number, decimals: number): string {
  const negative = n < 0;
  const scale = 10 ** decimals;
  const rounded = Math.floor(Math.abs(n) * scale + 0.5) / scale;
  return (negative ? '-' : '') + rounded.toFixed(decimals);
}
