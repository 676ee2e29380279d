// How a hardware service keeps `hw/<dev>/state` current: the state on every change of machine state, homed,
// door or alarm, and while the machine moves, its position every `intervalMs` (5 times a second by default).
import type { HardwareState, MachineState } from '@labrun/contracts';
import type { MotionController } from './motion-controller.js';

const MOVING: ReadonlySet<MachineState> = new Set(['Run', 'Home', 'Jog']);

/** Call `publish` with the state as described above, starting with the state now. Returns a function that stops it. */
export function followState(controller: MotionController, publish: (state: HardwareState) => void, intervalMs = 200): () => void {
  let ticker: ReturnType<typeof setInterval> | undefined;
  const onChange = (state: HardwareState) => {
    publish(state); // a change that ends motion is the final position report
    const moving = MOVING.has(state.machine);
    if (moving && !ticker) ticker = setInterval(() => publish(controller.state()), intervalMs);
    if (!moving && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
  controller.on('state', onChange);
  onChange(controller.state());
  return () => {
    controller.off('state', onChange);
    clearInterval(ticker);
  };
}
