// Driving one run through step() by hand, for the command modules' specs: play it, see what it asks the device,
// answer that request. Each input comes one second after the last.
import type { HardwareState, ProtocolDocument } from '@labrun/contracts';
import { createState } from '../apply.js';
import { iso } from '../fixtures.spec-helpers.js';
import type { RunState } from '../state.js';
import { step, type Effect, type HardwareFailure } from '../step.js';

export type Outcome = { ok: true; data?: HardwareState } | { ok: false; error: HardwareFailure };

export function stepDriver(protocol: ProtocolDocument, runId: string) {
  let t = 10;
  const at = () => iso(t++);
  const run = (): RunState => createState({ type: 'run.created', runId, seq: 1, at: iso(1), deviceId: 'sim-1', protocol });
  /** The device request among a step's effects. */
  const perform = (effects: Effect[]) => effects.find((e): e is Extract<Effect, { kind: 'perform' }> => e.kind === 'perform');
  /** A fresh run, played: its state and the request its first command sent. */
  function playing() {
    const out = step(run(), { type: 'action', action: { type: 'play' }, actionId: 'a-1', at: at() });
    return { state: out.state, request: perform(out.effects)! };
  }
  /** The device's answer to the request `effectId`. */
  const answer = (s: RunState, effectId: string, outcome: Outcome) => step(s, { type: 'result', effectId, at: at(), ...outcome });
  return { at, perform, playing, answer };
}
