// The run's commands document: each command of the protocol with its status, result and (after a retry or a skip)
// its attempts, derived from state. A command tried once carries no attempt list and no null result: its own
// fields are its one attempt, so a 100,000-command document is no bigger than before retries existed.
import type { CommandAttempt, RunCommand, RunCommandsDocument } from '@labrun/contracts';
import { at } from './append-only.js';
import type { CommandRecord, CurrentCommand, EndedAttempt, RunState } from './state.js';

type Json = CommandAttempt['result'];
const json = (value: unknown) => (value === undefined ? null : value) as Json;
/** `result` only when there is one: most commands (comments, pauses, delays) find nothing out. */
const withResult = (result: unknown): { result?: Json } => (result === null || result === undefined ? {} : { result: result as Json });

const ended = (a: EndedAttempt): CommandAttempt => ({
  attempt: a.attempt,
  status: a.error ? 'failed' : 'succeeded',
  startedAt: a.startedAt,
  completedAt: a.completedAt,
  error: a.error,
  result: json(a.result),
});

function fromRecord(record: CommandRecord): Omit<RunCommand, 'index' | 'command'> {
  return {
    status: record.status,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    error: record.error,
    ...withResult(record.result),
    ...(record.attempts ? { attempts: record.attempts.map(ended) } : {}),
    ...(record.status === 'skipped' ? { skippedBy: record.skippedBy ?? null } : {}),
  };
}

function fromCurrent(current: CurrentCommand): Omit<RunCommand, 'index' | 'command'> {
  const failedNow = current.failedNow;
  const entry: Omit<RunCommand, 'index' | 'command'> = {
    status: failedNow ? 'failed' : 'running',
    startedAt: current.firstStartedAt,
    completedAt: failedNow ? failedNow.completedAt : null,
    error: failedNow ? failedNow.error : null,
  };
  if (current.failed.length === 0) return entry;
  const attempts = current.failed.map(ended);
  if (failedNow) attempts.push(ended(failedNow));
  else attempts.push({ attempt: current.attempt, status: 'running', startedAt: current.startedAt, completedAt: null, error: null, result: null });
  return { ...entry, attempts };
}

export function toCommandsDocument(state: RunState): RunCommandsDocument {
  const current = state.current;
  const commands: RunCommand[] = state.protocol.commands.map((command, index) => {
    const record = at(state.records, index);
    if (record) return { index, command, ...fromRecord(record) };
    if (current?.index === index) return { index, command, ...fromCurrent(current) };
    return { index, command, status: 'queued', startedAt: null, completedAt: null, error: null };
  });
  return { runId: state.runId, seq: state.seq, commands };
}
