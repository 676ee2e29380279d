// How a hardware service keeps `hw/<dev>/state` current: the state on every change of machine state, homed,
// door or alarm, and while the machine moves or may still be moving (a feed hold or a door decelerates it), its
// position every `intervalMs` (5 times a second by default) whenever it changed.
import type { HardwareState, MachineState } from '@labrun/contracts';
import type { MotionController } from './motion-controller.js';

// Hold and Door: GRBL decelerates after the feed hold (Hold:1, Door:2), millimetres with its factory acceleration.
const MOVING: ReadonlySet<MachineState> = new Set(['Run', 'Home', 'Jog', 'Hold', 'Door']);
const samePosition = (a: HardwareState, b: HardwareState) => a.position.x === b.position.x && a.position.y === b.position.y && a.position.z === b.position.z;

/** Call `publish` with the state as described above, starting with the state now. Returns a function that stops it. */
export function followState(controller: MotionController, publish: (state: HardwareState) => void, intervalMs = 200): () => void {
  let ticker: ReturnType<typeof setInterval> | undefined;
  let last: HardwareState;
  const send = (state: HardwareState) => {
    last = state;
    publish(state);
  };
  const tick = () => {
    const state = controller.state();
    // Held or at a door the machine comes to rest and stays: publish while it still moves, not once a tick forever.
    if (state.machine === 'Run' || state.machine === 'Home' || state.machine === 'Jog' || !samePosition(state, last)) send(state);
  };
  const onChange = (state: HardwareState) => {
    send(state); // a change that ends motion is the final position report
    const moving = MOVING.has(state.machine);
    if (moving && !ticker) ticker = setInterval(tick, intervalMs);
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
