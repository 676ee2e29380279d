// GRBL 1.1's numbered replies, as the controller sends them: `error:N` answers a line it refused, `ALARM:N` is
// pushed when it stops everything. Numbers and descriptions are GRBL's own (gnea/grbl doc/csv/error_codes_en_US.csv
// and alarm_codes_en_US.csv); only the codes the simulator can produce are listed.

/** `error:N` — the line was not executed. */
export const ERROR = {
  /** G-code words consist of a letter and a value. Letter was not found. */
  expectedCommandLetter: 1,
  /** Missing the expected G-code word value or numeric value format is not valid. */
  badNumberFormat: 2,
  /** Grbl '$' system command was not recognized or supported. */
  invalidStatement: 3,
  /** Negative value received for an expected positive value. */
  negativeValue: 4,
  /** Homing cycle failure. Homing is not enabled via settings. */
  settingDisabled: 5,
  /** Minimum step pulse time must be greater than 3usec. */
  stepPulseMin: 6,
  /** Grbl '$' command cannot be used unless Grbl is IDLE. */
  idleError: 8,
  /** G-code commands are locked out during alarm or jog state. */
  gcodeLock: 9,
  /** Soft limits cannot be enabled without homing also enabled. */
  softLimitError: 10,
  /** Max characters per line exceeded. Received command line was not executed. */
  overflow: 11,
  /** Safety door detected as opened and door state initiated. */
  checkDoor: 13,
  /** Jog target exceeds machine travel. Jog command has been ignored. */
  travelExceeded: 15,
  /** Jog command has no '=' or contains prohibited g-code. */
  invalidJogCommand: 16,
  /** Unsupported or invalid g-code command found in block. */
  unsupportedCommand: 20,
  /** More than one g-code command from same modal group found in block. */
  modalGroupViolation: 21,
  /** Feed rate has not yet been set or is undefined. */
  undefinedFeedRate: 22,
  /** G-code command in block requires an integer value. */
  commandValueNotInteger: 23,
  /** Two G-code commands that both require the use of the XYZ axis words were detected in the block. */
  axisCommandConflict: 24,
  /** Repeated g-code word found in block. */
  wordRepeated: 25,
  /** No axis words found in block for G-code command or current modal state which requires them. */
  noAxisWords: 26,
  /** Line number value is invalid. */
  invalidLineNumber: 27,
  /** G-code command is missing a required value word. */
  valueWordMissing: 28,
  /** Grbl supports six work coordinate systems G54-G59. G59.1, G59.2, and G59.3 are not supported. */
  unsupportedCoordSys: 29,
  /** G53 only allowed with G0 and G1 motion modes. */
  g53InvalidMotionMode: 30,
  /** Motion command target is invalid (G38.2 toward the point the machine is at). */
  invalidTarget: 33,
  /** Axis words found in block when no command or current modal state uses them. */
  axisWordsExist: 31,
  /** Unused value words found in block. */
  unusedWords: 36,
  /** Tool number greater than max supported value. */
  maxValueExceeded: 38,
} as const;

/** `ALARM:N` — the controller stopped and locks out G-code until `$X`, `$H` or (for 1 and 2) a reset. */
export const ALARM = {
  /** Hard limit has been triggered. Machine position is likely lost due to sudden halt. Re-homing is highly recommended. */
  hardLimit: 1,
  /** Soft limit alarm. G-code motion target exceeds machine travel. Machine position retained. Alarm may be safely unlocked. */
  softLimit: 2,
  /** Reset while in motion. Machine position is likely lost due to sudden halt. Re-homing is highly recommended. */
  abortCycle: 3,
  /** Probe fail. The probe is not in the expected initial state before starting probe cycle (G38.2: touching already). */
  probeFailInitial: 4,
  /** Probe fail. Probe did not contact the workpiece within the programmed travel for G38.2 and G38.4. */
  probeFailContact: 5,
  /** Homing fail. The active homing cycle was reset. */
  homingFailReset: 6,
  /** Homing fail. Safety door was opened during homing cycle. */
  homingFailDoor: 7,
} as const;

export type ErrorCode = (typeof ERROR)[keyof typeof ERROR];
export type AlarmCode = (typeof ALARM)[keyof typeof ALARM];

/** 0 is GRBL's STATUS_OK: the line executed and is answered `ok`. */
export const STATUS_OK = 0;
export type Status = typeof STATUS_OK | ErrorCode;
