// @labrun/engine — the run model (a pure step() over apply, the guards in decide and one module per command type)
// and the Engine that carries out its effects.
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
