// GRBL 1.1's alarm and error codes with GRBL's own words. GRBL sends only the number (`ALARM:1`, `error:9`);
// these tables are what a sender shows. Every code in gnea/grbl's doc/csv/alarm_codes_en_US.csv and
// doc/csv/error_codes_en_US.csv is here: `name` is the CSV's short v1.0 message, `message` is the description
// from doc/markdown/interface.md (the protocol reference every GRBL sender quotes), or the CSV's description for
// the codes interface.md does not list (ALARM:10, error:17).

export interface GrblCode {
  code: number;
  /** GRBL's short name for it, e.g. `Hard limit`. */
  name: string;
  /** GRBL's description, e.g. `Hard limit triggered. Machine position is likely lost …`. */
  message: string;
}

const table = (rows: Array<[number, string, string]>): ReadonlyMap<number, GrblCode> => new Map(rows.map(([code, name, message]) => [code, { code, name, message }]));

export const ALARM_CODES: ReadonlyMap<number, GrblCode> = table([
  [1, 'Hard limit', 'Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended.'],
  [2, 'Soft limit', 'G-code motion target exceeds machine travel. Machine position safely retained. Alarm may be unlocked.'],
  [3, 'Abort during cycle', 'Reset while in motion. Grbl cannot guarantee position. Lost steps are likely. Re-homing is highly recommended.'],
  [4, 'Probe fail', 'Probe fail. The probe is not in the expected initial state before starting probe cycle, where G38.2 and G38.3 is not triggered and G38.4 and G38.5 is triggered.'],
  [5, 'Probe fail', 'Probe fail. Probe did not contact the workpiece within the programmed travel for G38.2 and G38.4.'],
  [6, 'Homing fail', 'Homing fail. Reset during active homing cycle.'],
  [7, 'Homing fail', 'Homing fail. Safety door was opened during active homing cycle.'],
  [8, 'Homing fail', 'Homing fail. Cycle failed to clear limit switch when pulling off. Try increasing pull-off setting or check wiring.'],
  [9, 'Homing fail', 'Homing fail. Could not find limit switch within search distance. Defined as 1.5 * max_travel on search and 5 * pulloff on locate phases.'],
  [10, 'Homing fail', 'Homing fail. Second dual axis limit switch failed to trigger within configured search distance after first. Try increasing trigger fail distance or check wiring.'],
]);

export const ERROR_CODES: ReadonlyMap<number, GrblCode> = table([
  [1, 'Expected command letter', 'G-code words consist of a letter and a value. Letter was not found.'],
  [2, 'Bad number format', 'Numeric value format is not valid or missing an expected value.'],
  [3, 'Invalid statement', "Grbl '$' system command was not recognized or supported."],
  [4, 'Value < 0', 'Negative value received for an expected positive value.'],
  [5, 'Setting disabled', 'Homing cycle is not enabled via settings.'],
  [6, 'Value < 3 usec', 'Minimum step pulse time must be greater than 3usec'],
  [7, 'EEPROM read fail. Using defaults', 'EEPROM read failed. Reset and restored to default values.'],
  [8, 'Not idle', "Grbl '$' command cannot be used unless Grbl is IDLE. Ensures smooth operation during a job."],
  [9, 'G-code lock', 'G-code locked out during alarm or jog state'],
  [10, 'Homing not enabled', 'Soft limits cannot be enabled without homing also enabled.'],
  [11, 'Line overflow', 'Max characters per line exceeded. Line was not processed and executed.'],
  [12, 'Step rate > 30kHz', "(Compile Option) Grbl '$' setting value exceeds the maximum step rate supported."],
  [13, 'Check Door', 'Safety door detected as opened and door state initiated.'],
  [14, 'Line length exceeded', '(Grbl-Mega Only) Build info or startup line exceeded EEPROM line length limit.'],
  [15, 'Travel exceeded', 'Jog target exceeds machine travel. Command ignored.'],
  [16, 'Invalid jog command', "Jog command with no '=' or contains prohibited g-code."],
  [17, 'Setting disabled', 'Laser mode requires PWM output.'],
  [20, 'Unsupported command', 'Unsupported or invalid g-code command found in block.'],
  [21, 'Modal group violation', 'More than one g-code command from same modal group found in block.'],
  [22, 'Undefined feed rate', 'Feed rate has not yet been set or is undefined.'],
  [23, 'Invalid gcode ID:23', 'G-code command in block requires an integer value.'],
  [24, 'Invalid gcode ID:24', 'Two G-code commands that both require the use of the XYZ axis words were detected in the block.'],
  [25, 'Invalid gcode ID:25', 'A G-code word was repeated in the block.'],
  [26, 'Invalid gcode ID:26', 'A G-code command implicitly or explicitly requires XYZ axis words in the block, but none were detected.'],
  [27, 'Invalid gcode ID:27', 'N line number value is not within the valid range of 1 - 9,999,999.'],
  [28, 'Invalid gcode ID:28', 'A G-code command was sent, but is missing some required P or L value words in the line.'],
  [29, 'Invalid gcode ID:29', 'Grbl supports six work coordinate systems G54-G59. G59.1, G59.2, and G59.3 are not supported.'],
  [30, 'Invalid gcode ID:30', 'The G53 G-code command requires either a G0 seek or G1 feed motion mode to be active. A different motion was active.'],
  [31, 'Invalid gcode ID:31', 'There are unused axis words in the block and G80 motion mode cancel is active.'],
  [32, 'Invalid gcode ID:32', 'A G2 or G3 arc was commanded but there are no XYZ axis words in the selected plane to trace the arc.'],
  [33, 'Invalid gcode ID:33', 'The motion command has an invalid target. G2, G3, and G38.2 generates this error, if the arc is impossible to generate or if the probe target is the current position.'],
  [
    34,
    'Invalid gcode ID:34',
    'A G2 or G3 arc, traced with the radius definition, had a mathematical error when computing the arc geometry. Try either breaking up the arc into semi-circles or quadrants, or redefine them with the arc offset definition.',
  ],
  [35, 'Invalid gcode ID:35', 'A G2 or G3 arc, traced with the offset definition, is missing the IJK offset word in the selected plane to trace the arc.'],
  [36, 'Invalid gcode ID:36', "There are unused, leftover G-code words that aren't used by any command in the block."],
  [37, 'Invalid gcode ID:37', 'The G43.1 dynamic tool length offset command cannot apply an offset to an axis other than its configured axis. The Grbl default axis is the Z-axis.'],
  [38, 'Invalid gcode ID:38', 'Tool number greater than max supported value.'],
]);

/**
 * Alarms after which GRBL's machine position cannot be trusted: a dead stop at a hard limit (1), a reset while
 * moving (3) — interface.md: "Re-homing is highly recommended" — and a failed homing cycle (6–10). A soft limit
 * (2) stops in a controlled way and a probe failure (4, 5) stops where the probe stands: those keep the position.
 */
export const ALARMS_LOSING_POSITION: ReadonlySet<number> = new Set([1, 3, 6, 7, 8, 9, 10]);

/** Whether the machine position is lost after `ALARM:<code>`: one of those, or an alarm GRBL 1.1 does not define. */
export const alarmLosesPosition = (code: number): boolean => ALARMS_LOSING_POSITION.has(code) || !ALARM_CODES.has(code);

/** Alarm `code` as GRBL describes it; a code GRBL 1.1 does not define still gets a readable answer. */
export function describeAlarm(code: number): GrblCode {
  return ALARM_CODES.get(code) ?? { code, name: 'Unknown alarm', message: `Unknown alarm (GRBL 1.1 defines ALARM:1 to ALARM:10).` };
}

/** Error `code` as GRBL describes it; a code GRBL 1.1 does not define still gets a readable answer. */
export function describeError(code: number): GrblCode {
  return ERROR_CODES.get(code) ?? { code, name: 'Unknown error', message: `Unknown error (not in GRBL 1.1's error table).` };
}
