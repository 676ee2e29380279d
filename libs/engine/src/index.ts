// @labrun/engine — the run model (decide/apply, pure) and the engine that carries it out.
export * from './state.js';
export * from './append-only.js';
export * from './apply.js';
export * from './decide.js';
export * from './status.js';
export * from './ports.js';
export * from './engine.js';
export * from './step.js';
export * from './interlock.js';
export * from './commands-document.js';
export * from './commands/index.js';
export * from './recovery.js';
export * from './journal.js';
export * from './data-dir-lock.js';
export * from './durable-output.js';
