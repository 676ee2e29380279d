// What a run replayed from the journal needs in order to continue safely after an engine restart. Pure: step()
// applies the events this returns for its `restored` input. Nothing already done is done again: completed commands
// stay completed; only the command that was in progress is carried out again, and only after an explicit resume.
import type { NewEvent } from './decide.js';
import type { RunState } from './state.js';

export function recoveryEvents(state: RunState): NewEvent[] {
  const { status, current } = state;
  if (status === 'stopping') {
    // The stop was accepted; finish it. Motion that was in flight has stopped with the engine.
    return current ? [{ type: 'command.failed', index: current.index, attempt: current.attempt, code: 'stopped', message: 'run stopped' }] : [];
  }
  if (status === 'awaiting-recovery') {
    // It waits exactly as it was. A fixit the device was carrying out has an unknown outcome: say so.
    const fixit = state.recovery?.fixit;
    if (fixit && fixit.ok === null) {
      return [{ type: 'fixit.completed', action: fixit.action, ok: false, code: 'interrupted', message: `the engine restarted during ${fixit.action}: check the machine, then ${fixit.action} again` }];
    }
    return [];
  }
  // Blocked while its protocol pause (or a wait for another instrument) was current: nothing was moving. It comes
  // back paused by its protocol, or waiting, as it was; the interlock is applied again if the device still reports it.
  if (status === 'blocked' && current !== null && state.reasons.some((r) => r.source === 'protocol' || r.source === 'external')) {
    return [{ type: 'interlock.changed', active: false, message: 'the engine restarted: the interlock is checked again' }];
  }
  // Paused before the restart: it stays exactly as it was (same reasons). Finished runs keep their history; an
  // idle run has not started.
  if (status !== 'running' && status !== 'pausing' && status !== 'blocked') return [];
  const what = current ? `${current.type} (command ${current.index + 1} of ${state.protocol.commands.length})` : null;
  const message = what ? `the engine restarted during ${what}: check the machine, then resume to carry it out again` : 'the engine restarted: check the machine, then resume';
  return [{ type: 'run.recovered', message }];
}
