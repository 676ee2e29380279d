// The GRBL 1.1 serial driver and the MotionController built on it.
export * from './codes.js';
export * from './errors.js';
export * from './messages.js';
export * from './status-report.js';
export * from './grbl-driver.js';
export * from './grbl-controller.js';
export * from './grbl-connection.js';
