// Everything the controller prints, formatted exactly as GRBL 1.1h's report.c does: the welcome banner, `[MSG:…]`
// feedback, the real-time status report `<Idle|MPos:…|…>`, and the answers to `$`, `$G`, `$#` and `$I`.
// Lines are sent with `\r\n` by the caller.
import { COOLANT, MM_PER_INCH, type ParserState } from './gcode.js';
import { PLANNER_BLOCKS } from './planner.js';
import { printFloat, type Settings } from './settings.js';
import type { Vec3 } from './vector.js';

export const GRBL_VERSION = '1.1h';
export const GRBL_VERSION_BUILD = '20190830';
export const RX_BUFFER_SIZE = 128;

/** Printed at power-up and after every soft reset; it starts with an empty line. */
export const BANNER = `\r\nGrbl ${GRBL_VERSION} ['$' for help]\r\n`;

export const HELP = '[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]';

/** GRBL's feedback messages. */
export const MESSAGE = {
  criticalEvent: '[MSG:Reset to continue]',
  alarmLock: "[MSG:'$H'|'$X' to unlock]",
  checkLimits: '[MSG:Check Limits]',
  alarmUnlock: '[MSG:Caution: Unlocked]',
  enabled: '[MSG:Enabled]',
  disabled: '[MSG:Disabled]',
  safetyDoorAjar: '[MSG:Check Door]',
  programEnd: '[MSG:Pgm End]',
  restoreDefaults: '[MSG:Restoring defaults]',
  sleeping: '[MSG:Sleeping]',
} as const;

/**
 * Compile-time options `$I` lists, in report_build_info()'s order: V variable spindle (GRBL's default build
 * prints `V`), M mist coolant (ENABLE_M7, when built with it), + safety door input pin (the simulated machine has
 * a door switch). No `Z`: homing does not set the origin (no HOMING_FORCE_SET_ORIGIN). Then the planner blocks
 * and serial receive buffer size, which senders use for character counting.
 */
export const buildOptions = (enableM7: boolean) => `V${enableM7 ? 'M' : ''}+,${PLANNER_BLOCKS},${RX_BUFFER_SIZE}`;

/** A coordinate in the reporting unit: mm with 3 decimals, or inches with 4 when $13=1. */
export function coord(mm: number, settings: Settings): string {
  return settings.reportInches ? printFloat(mm / MM_PER_INCH, 4) : printFloat(mm, 3);
}

/** A feed rate in the reporting unit: mm/min with no decimals, or in/min with 1 when $13=1. */
export function rate(mmPerMin: number, settings: Settings): string {
  return settings.reportInches ? printFloat(mmPerMin / MM_PER_INCH, 1) : printFloat(mmPerMin, 0);
}

const axes = (p: Vec3, settings: Settings) => p.map((v) => coord(v, settings)).join(',');

/** What a status report shows, gathered by the controller when `?` is serviced. */
export interface StatusSnapshot {
  /** State with sub-state, as reported: `Idle`, `Run`, `Hold:0`, `Door:1`… */
  state: string;
  /** Homing, cycle, hold, jog or door: GRBL refreshes WCO and overrides less often while busy. */
  busy: boolean;
  position: Vec3;
  /** The work coordinate offset: WPos = MPos − WCO. */
  wco: Vec3;
  plannerFree: number;
  rxFree: number;
  /** mm/min. */
  feed: number;
  /** rpm. */
  spindle: number;
  /** Triggered input pins: P probe, X Y Z limits, D door. */
  pins: string;
  /** Accessories on: S spindle clockwise, C counter-clockwise, F flood coolant, M mist coolant. */
  accessories: string;
}

/** GRBL sends the work offset and the overrides only in some reports; these counters decide which. */
export class ReportCounters {
  private wco = 0;
  private overrides = 0;

  /** After a reset: WCO in the first report, overrides in the second. */
  reset(): void {
    this.wco = 0;
    this.overrides = 0;
  }

  /** The next report includes the work offset (after it changed). */
  refreshWco(): void {
    this.wco = 0;
  }

  /** The next report includes the overrides (after the spindle or coolant changed). */
  refreshOverrides(): void {
    this.overrides = 0;
  }

  /** Decide for one report, as report_realtime_status() does. */
  next(busy: boolean): { wco: boolean; overrides: boolean } {
    let wco = false;
    let overrides = false;
    if (this.wco > 0) this.wco--;
    else {
      wco = true;
      this.wco = (busy ? 30 : 10) - 1; // REPORT_WCO_REFRESH_BUSY_COUNT / _IDLE_COUNT
      if (this.overrides === 0) this.overrides = 1; // overrides wait for the next report
    }
    if (this.overrides > 0) this.overrides--;
    else {
      overrides = true;
      this.overrides = (busy ? 20 : 10) - 1; // REPORT_OVR_REFRESH_BUSY_COUNT / _IDLE_COUNT
    }
    return { wco, overrides };
  }
}

/** `<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>` */
export function statusReport(s: StatusSnapshot, settings: Settings, counters: ReportCounters): string {
  const { wco } = s;
  const fields = [s.state];
  if (settings.statusMask & 1) fields.push(`MPos:${axes(s.position, settings)}`);
  else fields.push(`WPos:${axes(s.position.map((v, i) => v - wco[i]!) as Vec3, settings)}`);
  if (settings.statusMask & 2) fields.push(`Bf:${s.plannerFree},${s.rxFree}`);
  fields.push(`FS:${rate(s.feed, settings)},${printFloat(s.spindle, 0)}`);
  if (s.pins) fields.push(`Pn:${s.pins}`);
  const show = counters.next(s.busy);
  if (show.wco) fields.push(`WCO:${axes(wco, settings)}`);
  if (show.overrides) {
    fields.push('Ov:100,100,100'); // override commands are accepted but ignored, so always 100 %
    if (s.accessories) fields.push(`A:${s.accessories}`);
  }
  return `<${fields.join('|')}>`;
}

/** `$G`: `[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0]` */
export function gcodeModes(gc: ParserState, settings: Settings): string {
  const m = gc.modal;
  // Coolant: M7 and M8 both when both are on (ENABLE_M7 builds), else M8 or M9.
  const coolant = m.coolant === 0 ? 'M9' : [m.coolant & COOLANT.mist ? 'M7' : '', m.coolant & COOLANT.flood ? 'M8' : ''].filter(Boolean).join(' ');
  return `[GC:G${m.motion} G${54 + gc.coordSelect} G${m.plane} G${m.units} G${m.distance} G94 M${m.spindle} ${coolant} T${gc.tool} F${rate(gc.feedRate, settings)} S${printFloat(gc.spindleSpeed, 0)}]`;
}

/**
 * `[PRB:-10.000,-20.000,-50.000:1]`: where the last probe cycle touched in machine coordinates, and whether it did
 * (report_probe_parameters(): after every probe cycle, and in `$#`). A reset clears it to zero.
 */
export function probeParameters(probe: { position: Vec3; succeeded: boolean }, settings: Settings): string {
  return `[PRB:${axes(probe.position, settings)}:${probe.succeeded ? 1 : 0}]`;
}

/** `$#`: the coordinate systems, the G92 offset and the last probe; G28/G30 positions are not kept (zero). */
export function ngcParameters(gc: ParserState, probe: { position: Vec3; succeeded: boolean }, settings: Settings): string[] {
  const zero = axes([0, 0, 0], settings);
  return [
    ...gc.coordSystems.map((offset, i) => `[G${54 + i}:${axes(offset, settings)}]`),
    ...['G28', 'G30'].map((name) => `[${name}:${zero}]`),
    `[G92:${axes(gc.g92, settings)}]`,
    `[TLO:${coord(0, settings)}]`,
    probeParameters(probe, settings),
  ];
}

/** `$I`: version, build date and the user's `$I=` string, then the build options. */
export function buildInfo(info: string, enableM7 = false): string[] {
  return [`[VER:${GRBL_VERSION}.${GRBL_VERSION_BUILD}:${info}]`, `[OPT:${buildOptions(enableM7)}]`];
}
