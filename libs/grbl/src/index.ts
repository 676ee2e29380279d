// @labrun/grbl — motion controllers the hardware service drives: the MotionController seam, the GRBL 1.1 serial
// driver and the MotionController on it, the GRBL 1.1 simulator, the mapping of hardware requests onto a
// controller, and how its failures are answered.
export * from './motion-controller.js';
export * from './outputs.js';
export * from './driver/index.js';
export * from './simulator/index.js';
export * from './hardware-requests.js';
export * from './failures.js';
export * from './state-feed.js';
