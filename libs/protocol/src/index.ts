// @labrun/protocol — write a protocol in TypeScript, get the protocol document the engine runs.
export * from './define.js';
export * from './build.js';
