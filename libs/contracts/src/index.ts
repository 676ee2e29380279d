// @labrun/contracts — the single source of truth for everything that crosses a process boundary.
export * from './result.js';
export * from './ids.js';
export * from './protocol.js';
export * from './gcode-lines.js';
export * from './actions.js';
export * from './create.js';
export * from './error-recovery.js';
export * from './run-status.js';
export * from './run-events.js';
export * from './run-commands.js';
export * from './hardware.js';
export * from './engine-status.js';
export * from './topics.js';
export * from './payload.js';
export * from './config.js';
export * from './asyncapi.js';
export * from './clock.js';
