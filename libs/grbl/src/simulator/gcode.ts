// The G-code parser: one cleaned-up line (upper case, no spaces or comments) in, either `error:N` or the steps
// that carry it out, in GRBL's order of execution (gcode.c, gc_execute_line). It keeps the parser's modal state
// — what `$G` prints — and the parser position, which runs ahead of the machine by the moves still buffered.
//
// Supported: G0 G1 G4 G10 L2/L20 G17 G18 G19 G20 G21 G38.2 G38.3 G40 G53 G54…G59 G61 G80 G90 G91 G91.1 G92 G92.1
// G94, M0 M1 M2 M30 M3 M4 M5 M8 M9, words F L N P S T X Y Z. Work coordinates are GRBL's: WPos = MPos − (G5x offset
// + G92 offset); the parser position is kept in machine coordinates. GRBL features the simulator leaves out answer
// error:20 (unsupported command): arcs (G2/G3), probing away from a surface (G38.4/G38.5), G28/G30, tool length
// offsets (G43.1/G49) and inverse-time feed (G93). Like a default GRBL build there is no M7, unless built with it (ENABLE_M7).
import { ERROR, type ErrorCode } from './codes.js';
import type { Vec3 } from './vector.js';

export const MM_PER_INCH = 25.4;
const MAX_LINE_NUMBER = 10_000_000;
const MAX_TOOL_NUMBER = 255;

export interface ModalState {
  /** G0 rapid, G1 feed, G38.2 probe (G38.3: without an alarm when it touches nothing), G80 no motion. */
  motion: 0 | 1 | 38.2 | 38.3 | 80;
  plane: 17 | 18 | 19;
  /** G20 inches, G21 millimetres. */
  units: 20 | 21;
  /** G90 absolute, G91 incremental. */
  distance: 90 | 91;
  /** M3 clockwise, M4 counter-clockwise, M5 off. */
  spindle: 3 | 4 | 5;
  /** Coolant on, as GRBL's bits: COOLANT.flood (M8), COOLANT.mist (M7); 0 is off (M9). Both may be on at once. */
  coolant: number;
}

/** GRBL's coolant bits (COOLANT_FLOOD_ENABLE, COOLANT_MIST_ENABLE). */
export const COOLANT = { flood: 1, mist: 2 } as const;

export const defaultModal = (): ModalState => ({ motion: 0, plane: 17, units: 21, distance: 90, spindle: 5, coolant: 0 });

/** GRBL's gc_state. */
export class ParserState {
  /** Built with ENABLE_M7 (mist coolant); a compile-time option, as `$I`'s `M` shows. */
  readonly enableM7: boolean;
  modal: ModalState = defaultModal();
  /** mm/min; 0 means "not set yet" (a G1 then answers error:22). */
  feedRate = 0;
  spindleSpeed = 0;
  tool = 0;
  lineNumber = 0;
  /** Where the last parsed motion ends, in machine coordinates. */
  position: Vec3 = [0, 0, 0];
  /** G54…G59's offsets, as GRBL keeps them in EEPROM: they survive a reset. */
  readonly coordSystems: Vec3[] = Array.from({ length: 6 }, () => [0, 0, 0] as Vec3);
  /** The active coordinate system: 0 for G54 … 5 for G59. */
  coordSelect = 0;
  /** The G92 offset; a reset clears it. */
  g92: Vec3 = [0, 0, 0];

  constructor(options: { enableM7?: boolean } = {}) {
    this.enableM7 = options.enableM7 ?? false;
  }

  /** The work coordinate offset, WCO = G5x + G92: work position = machine position − WCO. */
  get wco(): Vec3 {
    const system = this.coordSystems[this.coordSelect]!;
    return [0, 1, 2].map((i) => system[i]! + this.g92[i]!) as Vec3;
  }

  /** gc_init(): modes back to their power-up defaults, G54, no G92 offset; the position is synced separately. */
  reset(position: Vec3): void {
    this.coordSelect = 0;
    this.g92 = [0, 0, 0];
    this.modal = defaultModal();
    this.feedRate = 0;
    this.spindleSpeed = 0;
    this.tool = 0;
    this.lineNumber = 0;
    this.position = [...position];
  }
}

/** What a G-code line asks the controller to do, in order. Modal changes are already applied when it gets these. */
export type GcodeStep =
  /** Wait until every buffered motion has finished (protocol_buffer_synchronize). */
  | { kind: 'sync' }
  | { kind: 'dwell'; seconds: number }
  /** Put a straight move into the planner. `feed` is mm/min; a rapid moves at the axes' maximum rates. */
  | { kind: 'line'; target: Vec3; feed: number; rapid: boolean }
  | { kind: 'jog'; target: Vec3; feed: number }
  | { kind: 'spindle'; state: 3 | 4 | 5; speed: number }
  /** The coolant bits to switch to (COOLANT). */
  | { kind: 'coolant'; state: number }
  /** M0: feed hold until cycle start. */
  | { kind: 'pause' }
  /**
   * G38.2/G38.3: probe toward `target` at `feed` until the probe touches (mc_probe_cycle); `noError` (G38.3): touching
   * nothing raises no alarm. Buffered motion has finished before it runs.
   */
  | { kind: 'probe'; target: Vec3; feed: number; noError: boolean }
  /** M2/M30: spindle and coolant off, `[MSG:Pgm End]`. */
  | { kind: 'programEnd' }
  /** The work offset changed (G10 on the active system, G92, G54…G59): the next status report shows `WCO:`. */
  | { kind: 'workOffset'; wco: Vec3 };

export type ParseResult = { ok: true; steps: GcodeStep[] } | { ok: false; error: ErrorCode };

/** GRBL's read_float(): an optional sign, then digits with at most one decimal point; no exponent. */
export function readFloat(line: string, start: number): { value: number; next: number } | null {
  let i = start;
  let text = '';
  if (line[i] === '-' || line[i] === '+') text += line[i++];
  let digits = 0;
  let decimal = false;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (c >= '0' && c <= '9') digits++;
    else if (c === '.' && !decimal) decimal = true;
    else break;
    text += c;
  }
  return digits ? { value: Number(text), next: i } : null;
}

const fail = (error: ErrorCode): ParseResult => ({ ok: false, error });

type ModalGroup = 'G0' | 'G1' | 'G2' | 'G3' | 'G4' | 'G5' | 'G6' | 'G7' | 'G12' | 'G13' | 'M4' | 'M7' | 'M8';
const AXIS_INDEX: Record<string, number> = { X: 0, Y: 1, Z: 2 };

/**
 * Parse and check one line, then apply it to `gc` and return its steps. Nothing changes when it fails.
 * `jog` is for `$J=` lines: only G20/G21, G90/G91 and G53 are allowed, F is required, modes are not kept.
 */
export function parseBlock(line: string, gc: ParserState, jog = false): ParseResult {
  // STEP 1: a copy of the modes for this block; only a block without errors replaces the parser's.
  const modal: ModalState = { ...gc.modal };
  if (jog) modal.motion = 1;
  /** G4, G10, G53, G92, and 92.1 for G92.1. */
  let nonModal: 0 | 4 | 10 | 53 | 92 | 92.1 = 0;
  let coordSelect = gc.coordSelect;
  let programFlow: 0 | 2 | 30 | null = null;
  let motionCommand = false;
  const groups = new Set<ModalGroup>();
  const values = new Map<string, number>();
  const axisWords = new Map<number, number>();

  // STEP 2: read every word, checking modal groups, repeats and signs as they come.
  let i = jog ? 3 : 0;
  while (i < line.length) {
    const letter = line[i]!;
    if (letter < 'A' || letter > 'Z') return fail(ERROR.expectedCommandLetter);
    const number = readFloat(line, i + 1);
    if (!number) return fail(ERROR.badNumberFormat);
    i = number.next;
    const value = number.value;
    const int = Math.trunc(value);
    let mantissa = Math.round(100 * (value - int));

    if (letter === 'G' || letter === 'M') {
      let group: ModalGroup;
      if (value < 0 || value >= 256) return fail(ERROR.unsupportedCommand);
      if (letter === 'G') {
        switch (int) {
          case 4:
          case 10:
          case 53:
            group = 'G0';
            nonModal = int;
            break;
          case 92:
            group = 'G0';
            if (mantissa !== 0 && mantissa !== 10) return fail(ERROR.unsupportedCommand);
            nonModal = mantissa === 10 ? 92.1 : 92;
            mantissa = 0;
            break;
          case 0:
          case 1:
          case 80:
            group = 'G1';
            modal.motion = int;
            if (int !== 80) motionCommand = true;
            break;
          case 38:
            // G38.2 and G38.3 probe toward a surface; G38.4/G38.5 (away from it) are not simulated.
            group = 'G1';
            if (mantissa !== 20 && mantissa !== 30) return fail(ERROR.unsupportedCommand);
            modal.motion = mantissa === 20 ? 38.2 : 38.3;
            motionCommand = true;
            mantissa = 0;
            break;
          case 17:
          case 18:
          case 19:
            group = 'G2';
            modal.plane = int;
            break;
          case 90:
          case 91:
            if (mantissa === 0) {
              group = 'G3';
              modal.distance = int;
            } else {
              // G91.1 (incremental arc centres) is GRBL's only mode here and changes nothing; G90.1 is unsupported.
              group = 'G4';
              if (mantissa !== 10 || int === 90) return fail(ERROR.unsupportedCommand);
              mantissa = 0;
            }
            break;
          case 94:
            group = 'G5';
            break;
          case 20:
          case 21:
            group = 'G6';
            modal.units = int;
            break;
          case 40:
            group = 'G7'; // cutter compensation off: always off, accepted for program headers
            break;
          case 54:
          case 55:
          case 56:
          case 57:
          case 58:
          case 59:
            group = 'G12';
            if (mantissa !== 0) return fail(ERROR.unsupportedCoordSys); // G59.1…G59.3
            coordSelect = int - 54;
            break;
          case 61:
            group = 'G13';
            if (mantissa !== 0) return fail(ERROR.unsupportedCommand);
            break;
          default:
            return fail(ERROR.unsupportedCommand);
        }
        if (mantissa > 0) return fail(ERROR.commandValueNotInteger);
      } else {
        if (mantissa > 0) return fail(ERROR.commandValueNotInteger);
        switch (int) {
          case 0:
          case 1:
          case 2:
          case 30:
            group = 'M4';
            if (int === 0) programFlow = 0;
            else if (int !== 1) programFlow = int; // M1, optional stop, is ignored as GRBL does
            break;
          case 3:
          case 4:
          case 5:
            group = 'M7';
            modal.spindle = int;
            break;
          case 7:
          case 8:
          case 9:
            // M7 and M8 add to what is on (one per line: they share a modal group), M9 switches both off.
            if (int === 7 && !gc.enableM7) return fail(ERROR.unsupportedCommand);
            group = 'M8';
            modal.coolant = int === 9 ? 0 : modal.coolant | (int === 7 ? COOLANT.mist : COOLANT.flood);
            break;
          default:
            return fail(ERROR.unsupportedCommand);
        }
      }
      if (groups.has(group)) return fail(ERROR.modalGroupViolation);
      groups.add(group);
      continue;
    }

    if (!'FIJKLNPRSTXYZ'.includes(letter)) return fail(ERROR.unsupportedCommand);
    if (letter === 'T' && value > MAX_TOOL_NUMBER) return fail(ERROR.maxValueExceeded);
    if (values.has(letter)) return fail(ERROR.wordRepeated);
    if ('FNPTS'.includes(letter) && value < 0) return fail(ERROR.negativeValue);
    values.set(letter, value);
    const axis = AXIS_INDEX[letter];
    if (axis !== undefined) axisWords.set(axis, value);
  }

  // STEP 3: check the block as a whole and convert its values to millimetres and machine coordinates.
  // G10 and G92 take the axis words as offsets; otherwise axis words alone use the current motion mode.
  const offsetCommand = nonModal === 10 || nonModal === 92;
  if (offsetCommand && motionCommand) return fail(ERROR.axisCommandConflict);
  let axisCommand = !offsetCommand && (motionCommand || axisWords.size > 0);
  const n = values.get('N');
  if (n !== undefined && n > MAX_LINE_NUMBER) return fail(ERROR.invalidLineNumber);

  const inches = modal.units === 20;
  let feed: number;
  const f = values.get('F');
  if (jog) {
    if (f === undefined) return fail(ERROR.undefinedFeedRate);
    feed = inches ? f * MM_PER_INCH : f;
  } else {
    feed = f === undefined ? gc.feedRate : inches ? f * MM_PER_INCH : f;
  }
  const speed = values.get('S') ?? gc.spindleSpeed;
  const tool = values.get('T') ?? gc.tool;

  const dwellSeconds = values.get('P') ?? 0;
  if (nonModal === 4) {
    if (!values.has('P')) return fail(ERROR.valueWordMissing);
    values.delete('P');
  }

  // The offsets this block's coordinates are relative to: the coordinate system it selects, and G92.
  const blockSystem = gc.coordSystems[coordSelect]!;
  const mmWords = new Map([...axisWords].map(([axis, raw]) => [axis, inches ? raw * MM_PER_INCH : raw]));
  let offsets: { system?: { index: number; values: Vec3 }; g92?: Vec3 } | null = null;
  if (nonModal === 10) {
    // G10 L2 P<n>: coordinate system n's offset is the value; L20: so that the current position reads the value.
    const l = values.get('L');
    const p = values.get('P');
    if (l === undefined || p === undefined) return fail(ERROR.valueWordMissing);
    if (l !== 2 && l !== 20) return fail(ERROR.unsupportedCommand);
    if (p !== Math.trunc(p) || p > 6) return fail(ERROR.unsupportedCoordSys);
    if (!mmWords.size) return fail(ERROR.noAxisWords);
    const index = p === 0 ? coordSelect : p - 1;
    const data: Vec3 = [...gc.coordSystems[index]!];
    for (const [axis, mm] of mmWords) data[axis] = l === 20 ? gc.position[axis]! - gc.g92[axis]! - mm : mm;
    offsets = { system: { index, values: data } };
    values.delete('L');
    values.delete('P');
  } else if (nonModal === 92) {
    // G92: an offset such that the current position reads the values given.
    if (!mmWords.size) return fail(ERROR.noAxisWords);
    const g92: Vec3 = [...gc.g92];
    for (const [axis, mm] of mmWords) g92[axis] = gc.position[axis]! - blockSystem[axis]! - mm;
    offsets = { g92 };
  } else if (nonModal === 92.1) {
    offsets = { g92: [0, 0, 0] };
  }

  const target: Vec3 = [...gc.position];
  if (!offsetCommand) {
    for (const [axis, mm] of mmWords) {
      // G53 moves in machine coordinates and ignores G91; otherwise absolute words are work coordinates.
      if (nonModal === 53) target[axis] = mm;
      else if (modal.distance === 90) target[axis] = mm + blockSystem[axis]! + gc.g92[axis]!;
      else target[axis] = gc.position[axis]! + mm;
    }
  }
  if (nonModal === 53 && modal.motion !== 0 && modal.motion !== 1) return fail(ERROR.g53InvalidMotionMode);

  const probing = modal.motion === 38.2 || modal.motion === 38.3;
  if (modal.motion === 80) {
    if (axisWords.size) return fail(ERROR.axisWordsExist);
  } else if (axisCommand) {
    if (modal.motion !== 0 && feed === 0) return fail(ERROR.undefinedFeedRate);
    if (probing) {
      // [G38 Errors]: no axis words; the target is where the parser already is.
      if (!axisWords.size) return fail(ERROR.noAxisWords);
      if (target.every((v, axis) => v === gc.position[axis])) return fail(ERROR.invalidTarget);
    } else if (!axisWords.size) {
      axisCommand = false;
    }
  }

  for (const letter of jog ? ['N', 'F'] : ['N', 'F', 'S', 'T']) values.delete(letter);
  if (axisCommand || axisWords.size) for (const letter of ['X', 'Y', 'Z']) values.delete(letter);
  if (values.size) return fail(ERROR.unusedWords);

  if (jog) {
    const allowed = new Set<ModalGroup>(['G0', 'G3', 'G6']);
    if ([...groups].some((g) => !allowed.has(g)) || (nonModal !== 0 && nonModal !== 53)) return fail(ERROR.invalidJogCommand);
    // A jog changes no modes; the controller moves the parser position once the jog is accepted.
    return { ok: true, steps: axisCommand ? [{ kind: 'jog', target, feed }] : [] };
  }

  // STEP 4: execute — update the parser state and list what the machine must do, in GRBL's order.
  const steps: GcodeStep[] = [];
  gc.lineNumber = n === undefined ? 0 : Math.trunc(n);
  gc.feedRate = feed;
  if (speed !== gc.spindleSpeed) {
    if (gc.modal.spindle !== 5) steps.push({ kind: 'sync' }, { kind: 'spindle', state: gc.modal.spindle, speed });
    gc.spindleSpeed = speed;
  }
  gc.tool = Math.trunc(tool);
  if (modal.spindle !== gc.modal.spindle) steps.push({ kind: 'sync' }, { kind: 'spindle', state: modal.spindle, speed });
  if (modal.coolant !== gc.modal.coolant) steps.push({ kind: 'sync' }, { kind: 'coolant', state: modal.coolant });
  if (nonModal === 4) steps.push({ kind: 'sync' }, { kind: 'dwell', seconds: dwellSeconds });
  const wcoChanged = coordSelect !== gc.coordSelect || offsets !== null;
  if (coordSelect !== gc.coordSelect) {
    steps.push({ kind: 'sync' }); // GRBL waits for buffered motion before it switches coordinate systems
    gc.coordSelect = coordSelect;
  }
  if (offsets?.system) {
    steps.push({ kind: 'sync' }); // G10 writes EEPROM, after the buffered motion (FORCE_BUFFER_SYNC_DURING_EEPROM_WRITE)
    gc.coordSystems[offsets.system.index] = offsets.system.values;
  }
  if (offsets?.g92) gc.g92 = offsets.g92;
  if (wcoChanged) steps.push({ kind: 'workOffset', wco: gc.wco });
  gc.modal = modal;
  if (axisCommand && probing) {
    // The probe cycle sets the parser position when it ends: where it stopped, or the target if it touched nothing.
    steps.push({ kind: 'sync' }, { kind: 'probe', target, feed, noError: modal.motion === 38.3 });
  } else if (axisCommand && modal.motion !== 80) {
    steps.push({ kind: 'line', target, feed, rapid: modal.motion === 0 });
    gc.position = target;
  }
  if (programFlow === 0) steps.push({ kind: 'sync' }, { kind: 'pause' });
  if (programFlow === 2 || programFlow === 30) {
    steps.push({ kind: 'sync' }, { kind: 'programEnd' });
    // M2/M30 reset only these modes (LinuxCNC's program end): G1 G17 G90 G94 G54 M5 M9.
    gc.modal = { ...gc.modal, motion: 1, plane: 17, distance: 90, spindle: 5, coolant: 0 };
  }
  return { ok: true, steps };
}
