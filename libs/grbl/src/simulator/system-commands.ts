// GRBL's `$` commands (system.c, system_execute_line): help, settings, parser state, build info, startup lines,
// check mode, unlock, homing, sleep, jogging and restoring defaults — with the same state checks and error codes.
import { ERROR, STATUS_OK, type Status } from './codes.js';
import { parseBlock, readFloat, type ParserState } from './gcode.js';
import { HELP, MESSAGE, buildInfo, gcodeModes, ngcParameters } from './report.js';
import type { MachineState } from './machine.js';
import type { Settings } from './settings.js';
import type { Step } from './steps.js';
import type { Vec3 } from './vector.js';

/** What a `$` command may look at and change in the controller. */
export interface SystemContext {
  state: MachineState;
  readonly settings: Settings;
  readonly parser: ParserState;
  readonly doorAjar: boolean;
  buildInfo: string;
  readonly startupLines: string[];
  /** Where the last probe cycle touched, and whether it did (`$#` prints it). */
  readonly lastProbe: { position: Vec3; succeeded: boolean };
  sendLine(line: string): void;
  /** mc_reset(): a soft reset, as if 0x18 had been received. */
  reset(): void;
  /** Ask for sleep mode (a real-time flag, acted on after the `ok`). */
  sleep(): void;
}

export type SystemResult = { status: Status } | { steps: Step[] };

const status = (code: Status): SystemResult => ({ status: code });

export function executeSystemCommand(line: string, ctx: SystemContext): SystemResult {
  const command = line[1];
  const { state } = ctx;
  if (command === undefined) {
    ctx.sendLine(HELP);
    return status(STATUS_OK);
  }

  if (command === 'J') {
    if (state !== 'Idle' && state !== 'Jog') return status(ERROR.idleError);
    if (line[2] !== '=') return status(ERROR.invalidStatement);
    const parsed = parseBlock(line, ctx.parser, true);
    return parsed.ok ? { steps: parsed.steps } : status(parsed.error);
  }

  if (command === '$' || command === 'G' || command === 'C' || command === 'X') {
    if (line.length > 2) return status(ERROR.invalidStatement);
    switch (command) {
      case '$':
        if (state === 'Cycle' || state === 'Hold') return status(ERROR.idleError); // too long to print mid-job
        for (const setting of ctx.settings.listing()) ctx.sendLine(setting);
        break;
      case 'G':
        ctx.sendLine(gcodeModes(ctx.parser, ctx.settings));
        break;
      case 'C':
        // Leaving check mode resets the controller, to restore the parser state the checked program changed.
        if (state === 'Check') {
          ctx.reset();
          ctx.sendLine(MESSAGE.disabled);
        } else {
          if (state !== 'Idle') return status(ERROR.idleError);
          ctx.state = 'Check';
          ctx.sendLine(MESSAGE.enabled);
        }
        break;
      case 'X':
        if (state === 'Alarm') {
          if (ctx.doorAjar) return status(ERROR.checkDoor);
          ctx.sendLine(MESSAGE.alarmUnlock);
          ctx.state = 'Idle'; // startup lines are not run: they could move a machine that lost its position
        }
        break;
    }
    return status(STATUS_OK);
  }

  // Everything else needs a machine at rest: Idle, or Alarm (so settings can be fixed before unlocking).
  if (state !== 'Idle' && state !== 'Alarm') return status(ERROR.idleError);
  switch (command) {
    case '#':
      if (line.length > 2) return status(ERROR.invalidStatement);
      for (const parameter of ngcParameters(ctx.parser, ctx.lastProbe, ctx.settings)) ctx.sendLine(parameter);
      return status(STATUS_OK);
    case 'H':
      if (!ctx.settings.homingEnabled) return status(ERROR.settingDisabled);
      if (ctx.doorAjar) return status(ERROR.checkDoor);
      if (line.length > 2) return status(ERROR.invalidStatement); // single-axis homing ($HX) is not built in
      return { steps: [{ kind: 'home' }, { kind: 'startupLines' }] };
    case 'S':
      if (line !== '$SLP') return status(ERROR.invalidStatement);
      ctx.sleep();
      return status(STATUS_OK);
    case 'I':
      if (line.length === 2) {
        for (const info of buildInfo(ctx.buildInfo, ctx.parser.enableM7)) ctx.sendLine(info);
        return status(STATUS_OK);
      }
      if (line[2] !== '=') return status(ERROR.invalidStatement);
      ctx.buildInfo = line.slice(3);
      return status(STATUS_OK);
    case 'R': {
      if (line.length !== 6 || !line.startsWith('$RST=')) return status(ERROR.invalidStatement);
      const what = line[5];
      if (what !== '$' && what !== '#' && what !== '*') return status(ERROR.invalidStatement);
      if (what !== '$') for (const system of ctx.parser.coordSystems) system.fill(0); // `#` and `*` clear the stored work offsets
      if (what !== '#') ctx.settings.restoreDefaults();
      ctx.sendLine(MESSAGE.restoreDefaults);
      ctx.reset();
      return status(STATUS_OK);
    }
    case 'N':
      if (line.length === 2) {
        ctx.startupLines.forEach((stored, n) => ctx.sendLine(`$N${n}=${stored}`));
        return status(STATUS_OK);
      }
      if (state !== 'Idle') return status(ERROR.idleError); // storing one runs it, so not while in alarm
      return storeStartupLine(line, ctx);
    default:
      return storeSetting(line, ctx);
  }
}

/** `$N0=G21 G90`: GRBL executes the line to check it, and stores it only if it ran without error. */
function storeStartupLine(line: string, ctx: SystemContext): SystemResult {
  const index = readFloat(line, 2);
  if (!index) return status(ERROR.badNumberFormat);
  if (line[index.next] !== '=') return status(ERROR.invalidStatement);
  const n = Math.trunc(index.value);
  if (n >= ctx.startupLines.length) return status(ERROR.invalidStatement);
  const block = line.slice(index.next + 1);
  const parsed = parseBlock(block, ctx.parser);
  if (!parsed.ok) return status(parsed.error);
  return { steps: [...parsed.steps, { kind: 'call', run: () => (ctx.startupLines[n] = block) }] };
}

/** `$110=5000` */
function storeSetting(line: string, ctx: SystemContext): SystemResult {
  const parameter = readFloat(line, 1);
  if (!parameter) return status(ERROR.badNumberFormat);
  if (line[parameter.next] !== '=') return status(ERROR.invalidStatement);
  const value = readFloat(line, parameter.next + 1);
  if (!value) return status(ERROR.badNumberFormat);
  if (value.next !== line.length || parameter.value > 255) return status(ERROR.invalidStatement);
  return status(ctx.settings.store(Math.trunc(parameter.value), value.value));
}
