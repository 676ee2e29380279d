// The run's commands document: each command of the protocol with its status, attempts and result, derived from state.
import type { CommandAttempt, RunCommand, RunCommandsDocument } from '@labrun/contracts';
import { at } from './append-only.js';
import type { CommandRecord, CurrentCommand, EndedAttempt, RunState } from './state.js';

const json = (value: unknown) => (value === undefined ? null : value) as CommandAttempt['result'];
const ended = (a: EndedAttempt): CommandAttempt => ({
  attempt: a.attempt,
  status: a.error ? 'failed' : 'succeeded',
  startedAt: a.startedAt,
  completedAt: a.completedAt,
  error: a.error,
  result: json(a.result),
});

function fromRecord(record: CommandRecord): Omit<RunCommand, 'index' | 'command'> {
  const attempts = record.attempts
    ? record.attempts.map(ended)
    : [
        {
          attempt: 1,
          status: record.status === 'succeeded' ? ('succeeded' as const) : ('failed' as const),
          startedAt: record.startedAt,
          completedAt: record.completedAt,
          error: record.error,
          result: json(record.result),
        },
      ];
  return {
    status: record.status,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    error: record.error,
    result: json(record.result),
    attempts,
    ...(record.status === 'skipped' ? { skippedBy: record.skippedBy ?? null } : {}),
  };
}

function fromCurrent(current: CurrentCommand): Omit<RunCommand, 'index' | 'command'> {
  const attempts = current.failed.map(ended);
  if (current.failedNow) attempts.push(ended(current.failedNow));
  else attempts.push({ attempt: current.attempt, status: 'running', startedAt: current.startedAt, completedAt: null, error: null, result: null });
  const failedNow = current.failedNow;
  return {
    status: failedNow ? 'failed' : 'running',
    startedAt: current.firstStartedAt,
    completedAt: failedNow ? failedNow.completedAt : null,
    error: failedNow ? failedNow.error : null,
    result: null,
    attempts,
  };
}

export function toCommandsDocument(state: RunState): RunCommandsDocument {
  const commands: RunCommand[] = state.protocol.commands.map((command, index) => {
    const record = at(state.records, index);
    if (record) return { index, command, ...fromRecord(record) };
    if (state.current?.index === index) return { index, command, ...fromCurrent(state.current) };
    return { index, command, status: 'queued', startedAt: null, completedAt: null, error: null, result: null, attempts: [] };
  });
  return { runId: state.runId, seq: state.seq, commands };
}
