// Test fixtures for the run model: a protocol with every command type, and runs driven into each status
// by the events that put a run there in real life.
import type { ActionType, ProtocolDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { toStatusDocument } from './status.js';
import { apply, createState } from './apply.js';
import type { NewEvent } from './decide.js';
import type { RunState } from './state.js';

export const protocol: ProtocolDocument = {
  schemaVersion: 1,
  metadata: { name: 'Every command' },
  commands: [
    { type: 'home' },
    { type: 'move', params: { x: 10, y: 20, z: 5, feed: 3000 } },
    { type: 'pause', params: { message: 'Check the samples' } },
    { type: 'delay', params: { seconds: 30, message: 'Incubate' } },
    { type: 'comment', params: { message: 'Done' } },
  ],
};

export const T0 = Date.parse('2026-11-24T10:00:00.000Z');
export const iso = (secondsAfterT0: number) => new Date(T0 + secondsAfterT0 * 1000).toISOString();

/** Fold events (each stamped one second after the last) onto a freshly created run. */
export function given(events: NewEvent[], start: RunState = created()): RunState {
  let state = start;
  for (const draft of events) {
    const seq = state.seq + 1;
    state = apply(state, { ...draft, runId: state.runId, seq, at: iso(seq) } as RunEvent);
  }
  return state;
}

export function created(): RunState {
  return createState({ type: 'run.created', runId: 'r-42', seq: 1, at: iso(1), deviceId: 'sim-1', protocol });
}

let ids = 0;
export const accepted = (action: ActionType, extra: Partial<{ by: string; message: string; mode: 'immediate' | 'deferred' }> = {}): NewEvent => ({
  type: 'action.accepted',
  actionId: `a-${++ids}`,
  action,
  by: extra.by ?? null,
  message: extra.message ?? null,
  mode: action === 'pause' ? (extra.mode ?? 'immediate') : null,
});
export const started = (index: number): NewEvent => ({ type: 'command.started', index, commandType: protocol.commands[index]!.type });
export const succeeded = (index: number): NewEvent => ({ type: 'command.succeeded', index });
export const failed = (index: number, message = 'limit switch hit'): NewEvent => ({ type: 'command.failed', index, code: 'hardware-error', message });
/** A failure the run's policy answers with `wait`: the run awaits recovery. */
export const failedWaiting = (index: number, extra: Partial<{ code: string; message: string; positionLost: boolean; attempt: number }> = {}): NewEvent => ({
  type: 'command.failed',
  index,
  attempt: extra.attempt ?? 1,
  code: extra.code ?? 'alarm',
  message: extra.message ?? 'ALARM:1 Hard limit triggered',
  ...(extra.positionLost ? { positionLost: true } : {}),
  recovery: 'wait',
});

/** A status document with this seq (content irrelevant to the test using it). */
export function statusOf(seq: number): RunStatusDocument {
  return { ...toStatusDocument(created()), seq };
}
