// The run's commands document: each command of the protocol with its status and times, derived from state.
import type { RunCommand, RunCommandsDocument } from '@labrun/contracts';
import { at } from './append-only.js';
import type { RunState } from './state.js';

export function toCommandsDocument(state: RunState): RunCommandsDocument {
  const commands: RunCommand[] = state.protocol.commands.map((command, index) => {
    const outcome = at(state.outcomes, index);
    if (outcome) {
      return { index, command, status: outcome.error ? 'failed' : 'succeeded', startedAt: outcome.startedAt, completedAt: outcome.completedAt, error: outcome.error };
    }
    if (state.current?.index === index) return { index, command, status: 'running', startedAt: state.current.startedAt, completedAt: null, error: null };
    return { index, command, status: 'queued', startedAt: null, completedAt: null, error: null };
  });
  return { runId: state.runId, seq: state.seq, commands };
}
