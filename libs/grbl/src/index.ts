// @labrun/grbl — motion controllers the hardware service drives: the MotionController seam, the built-in GRBL
// simulator, and the mapping of hardware requests onto a controller.
export * from './motion-controller.js';
export * from './simulated-machine.js';
export * from './hardware-requests.js';
export * from './state-feed.js';
