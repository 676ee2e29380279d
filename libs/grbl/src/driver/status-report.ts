// GRBL 1.1 real-time status reports (`<Run|MPos:1.000,2.000,0.000|Bf:15,128|FS:500,0|WCO:0.000,0.000,0.000>`):
// parsing one report, and completing it with the fields GRBL sends only now and then (WCO, Ov, A).
// The field reference is gnea/grbl doc/markdown/interface.md, "Real-time Status reports".

/** GRBL 1.1's machine states, as the first field of a status report names them. */
export const GRBL_STATES = ['Idle', 'Run', 'Hold', 'Jog', 'Alarm', 'Door', 'Check', 'Home', 'Sleep'] as const;
export type GrblState = (typeof GRBL_STATES)[number];

/** X, Y, Z, and A when the controller has a fourth axis. Units are whatever GRBL reports in ($13: mm or inches). */
export interface AxisValues {
  x: number;
  y: number;
  z: number;
  a?: number;
}

/** Input pins GRBL reports as triggered (`Pn:XYZPDHRS`). */
export interface PinState {
  limitX: boolean;
  limitY: boolean;
  limitZ: boolean;
  limitA: boolean;
  probe: boolean;
  door: boolean;
  hold: boolean;
  softReset: boolean;
  cycleStart: boolean;
}

export interface Overrides {
  /** Feed override, percent of programmed. */
  feed: number;
  /** Rapid override, percent. */
  rapid: number;
  /** Spindle speed override, percent. */
  spindle: number;
}

/** Accessory state (`A:SFM`). Absent letters are off. */
export interface Accessories {
  spindle: 'cw' | 'ccw' | 'off';
  flood: boolean;
  mist: boolean;
}

/** Exactly what one report line carries; a field GRBL left out is undefined. */
export interface StatusFields {
  state: GrblState;
  /** `Hold:0` (held, ready to resume), `Hold:1` (decelerating), `Door:0`…`Door:3`; null without one. */
  subState: number | null;
  mpos?: AxisValues;
  wpos?: AxisValues;
  wco?: AxisValues;
  /** `Bf:15,128`: free planner blocks and free bytes in GRBL's serial receive buffer. */
  buffer?: { plannerBlocksFree: number; rxBytesFree: number };
  /** `Ln:99`: the line number (N word) being executed. */
  lineNumber?: number;
  /** `FS:` or `F:`: the running feed rate (mm/min or in/min per $13). */
  feed?: number;
  /** `FS:`'s second value, the spindle speed in RPM. */
  spindle?: number;
  pins?: PinState;
  overrides?: Overrides;
  accessories?: Accessories;
  /** Fields this parser does not know (a later GRBL, a fork), by name, as sent. */
  other: Record<string, string>;
}

/**
 * A status report completed with what the driver last heard: GRBL sends `WCO` only every 10-30 reports and `Ov`
 * (with `A`) every 10-20, so a report without them means "unchanged". Both positions are there whenever the work
 * coordinate offset is known (`WPos = MPos - WCO`); `pins` is all false when `Pn` is absent (nothing triggered).
 */
export interface StatusReport {
  state: GrblState;
  subState: number | null;
  mpos: AxisValues | null;
  wpos: AxisValues | null;
  wco: AxisValues | null;
  buffer: { plannerBlocksFree: number; rxBytesFree: number } | null;
  lineNumber: number | null;
  feed: number | null;
  spindle: number | null;
  pins: PinState;
  overrides: Overrides | null;
  accessories: Accessories | null;
  other: Record<string, string>;
  /** The report line as received. */
  raw: string;
}

const NO_PINS: PinState = { limitX: false, limitY: false, limitZ: false, limitA: false, probe: false, door: false, hold: false, softReset: false, cycleStart: false };
const PIN_LETTERS: Record<string, keyof PinState> = { X: 'limitX', Y: 'limitY', Z: 'limitZ', A: 'limitA', P: 'probe', D: 'door', H: 'hold', R: 'softReset', S: 'cycleStart' };
const STATES: ReadonlySet<string> = new Set(GRBL_STATES);

/** A number as GRBL prints one (`-10.000`, `500`, `0.0`); anything else is not one. */
function number(text: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)) return undefined;
  return Number(text);
}

function numbers(text: string, min: number, max: number): number[] | undefined {
  const parts = text.split(',');
  if (parts.length < min || parts.length > max) return undefined;
  const values = parts.map(number);
  return values.every((v): v is number => v !== undefined) ? values : undefined;
}

function axes(text: string): AxisValues | undefined {
  const v = numbers(text, 3, 4);
  if (!v) return undefined;
  const [x, y, z, a] = v as [number, number, number, number | undefined];
  return a === undefined ? { x, y, z } : { x, y, z, a };
}

/**
 * Parse one status report line (with or without the line ending). Returns undefined for anything that is not a
 * well-formed report: not in chevrons, an unknown state, no position, or a known field with a malformed value.
 * Fields may come in any order, as interface.md says to assume.
 */
export function parseStatusReport(line: string): StatusFields | undefined {
  const text = line.trim();
  if (!text.startsWith('<') || !text.endsWith('>')) return undefined;
  const [head = '', ...fields] = text.slice(1, -1).split('|');
  const [stateName = '', sub, ...rest] = head.split(':');
  if (!STATES.has(stateName) || rest.length > 0) return undefined;
  let subState: number | null = null;
  if (sub !== undefined) {
    if (!/^\d$/.test(sub)) return undefined;
    subState = Number(sub);
  }
  const report: StatusFields = { state: stateName as GrblState, subState, other: {} };
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon <= 0) return undefined;
    const name = field.slice(0, colon);
    const value = field.slice(colon + 1);
    switch (name) {
      case 'MPos':
      case 'WPos':
      case 'WCO': {
        const v = axes(value);
        if (!v) return undefined;
        report[name === 'MPos' ? 'mpos' : name === 'WPos' ? 'wpos' : 'wco'] = v;
        break;
      }
      case 'Bf': {
        const v = numbers(value, 2, 2);
        if (!v) return undefined;
        report.buffer = { plannerBlocksFree: v[0]!, rxBytesFree: v[1]! };
        break;
      }
      case 'Ln': {
        const v = number(value);
        if (v === undefined) return undefined;
        report.lineNumber = v;
        break;
      }
      case 'F': {
        const v = number(value);
        if (v === undefined) return undefined;
        report.feed = v;
        break;
      }
      case 'FS': {
        const v = numbers(value, 2, 2);
        if (!v) return undefined;
        report.feed = v[0]!;
        report.spindle = v[1]!;
        break;
      }
      case 'Pn': {
        const pins = { ...NO_PINS };
        for (const letter of value) {
          const pin = PIN_LETTERS[letter];
          if (!pin) return undefined;
          pins[pin] = true;
        }
        report.pins = pins;
        break;
      }
      case 'Ov': {
        const v = numbers(value, 3, 3);
        if (!v) return undefined;
        report.overrides = { feed: v[0]!, rapid: v[1]!, spindle: v[2]! };
        break;
      }
      case 'A': {
        const accessories: Accessories = { spindle: 'off', flood: false, mist: false };
        for (const letter of value) {
          if (letter === 'S') accessories.spindle = 'cw';
          else if (letter === 'C') accessories.spindle = 'ccw';
          else if (letter === 'F') accessories.flood = true;
          else if (letter === 'M') accessories.mist = true;
          else return undefined;
        }
        report.accessories = accessories;
        break;
      }
      default:
        report.other[name] = value;
    }
  }
  if (!report.mpos && !report.wpos) return undefined; // interface.md: the position is always the second field
  return report;
}

const minus = (a: AxisValues, b: AxisValues): AxisValues => ({
  x: a.x - b.x,
  y: a.y - b.y,
  z: a.z - b.z,
  ...(a.a !== undefined ? { a: a.a - (b.a ?? 0) } : {}),
});
const plus = (a: AxisValues, b: AxisValues): AxisValues => ({
  x: a.x + b.x,
  y: a.y + b.y,
  z: a.z + b.z,
  ...(a.a !== undefined ? { a: a.a + (b.a ?? 0) } : {}),
});
/** GRBL prints 3 decimals (4 in inches); sums and differences keep that, not binary noise. */
const tidy = (v: AxisValues): AxisValues => {
  const r = (n: number) => Math.round(n * 10_000) / 10_000;
  return { x: r(v.x), y: r(v.y), z: r(v.z), ...(v.a !== undefined ? { a: r(v.a) } : {}) };
};

/** What the intermittent fields were last time; a StatusTracker keeps it between reports. */
export interface StatusMemory {
  wco: AxisValues | null;
  overrides: Overrides | null;
  accessories: Accessories | null;
}

/**
 * Complete a parsed report with what earlier reports said: WCO, Ov and A carry over until GRBL sends new values
 * (A arrives only together with Ov, so an Ov without A means every accessory is off). Returns the full report
 * and the memory for the next one.
 */
export function completeStatus(fields: StatusFields, raw: string, memory: StatusMemory): { report: StatusReport; memory: StatusMemory } {
  const wco = fields.wco ?? memory.wco;
  const overrides = fields.overrides ?? memory.overrides;
  const accessories = fields.overrides ? (fields.accessories ?? { spindle: 'off', flood: false, mist: false }) : (fields.accessories ?? memory.accessories);
  const mpos = fields.mpos ?? (fields.wpos && wco ? tidy(plus(fields.wpos, wco)) : null);
  const wpos = fields.wpos ?? (fields.mpos && wco ? tidy(minus(fields.mpos, wco)) : null);
  return {
    report: {
      state: fields.state,
      subState: fields.subState,
      mpos,
      wpos,
      wco,
      buffer: fields.buffer ?? null,
      lineNumber: fields.lineNumber ?? null,
      feed: fields.feed ?? null,
      spindle: fields.spindle ?? null,
      pins: fields.pins ?? { ...NO_PINS },
      overrides,
      accessories,
      other: fields.other,
      raw,
    },
    memory: { wco, overrides, accessories },
  };
}
