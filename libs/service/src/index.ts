// @labrun/service — what every labrun service process needs besides its own logic.
export * from './log.js';
export * from './mqtt.js';
export * from './lifecycle.js';
export * from './listen.js';
export * from './login-limit.js';
