// `probe`: GRBL's G38.2 toward a point, for liquid-level and tip detection: it moves at the feed until the probe
// touches, and its result is where it touched. Touching nothing is a failure (code probe-no-contact) that goes
// to error recovery like any other.
import type { HardwareState } from '@labrun/contracts';
import { positionResult, type CommandModule } from './types.js';

/**
 * Where the probe touched (the controller's `lastProbe`, from GRBL's `[PRB:…:1]`), not where the machine came to
 * rest a little past it. A hardware service that reports no `lastProbe` gives where the machine stopped.
 */
export function probeResult(state: HardwareState): Record<string, unknown> {
  const touched = state.lastProbe;
  return touched ? { position: touched.position, machinePosition: touched.machinePosition } : positionResult(state);
}

export const probe: CommandModule<'probe'> = {
  type: 'probe',
  kind: 'motion',
  start: (command) => ({ kind: 'perform', request: { op: 'probe', params: command.params } }),
  onStop: 'abort',
  onPause: 'hold',
  onResume: 'continue',
  result: probeResult,
  describe(command, style) {
    const { x, y, z, feed } = command.params;
    const axes = Object.entries({ x, y, z }).flatMap(([axis, v]) => (v === undefined ? [] : [[axis, v] as const]));
    if (style === 'terse') return ['probe', ...axes.map(([axis, v]) => `${axis}=${v}`), `F${feed}`].join(' ');
    return `Probe toward ${axes.map(([axis, v]) => `${axis.toUpperCase()} ${v}`).join(', ')} at ${feed} mm/min`;
  },
};
