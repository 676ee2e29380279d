// The run semantics of the contract, as folds of events: what the status says after each fact.
import { describe, expect, it } from 'vitest';
import { accepted, created, failed, given, iso, started, succeeded } from './fixtures.spec-helpers.js';
import { toStatusDocument } from './status.js';
import { at } from './append-only.js';

const toProtocolPause = [accepted('play'), started(0), succeeded(0), started(1), succeeded(1), started(2)];

describe('a protocol pause', () => {
  it('pauses the run with source protocol, its message and since, the pause command still running', () => {
    const doc = toStatusDocument(given(toProtocolPause));
    expect(doc).toMatchObject({
      status: 'paused',
      pause: { source: 'protocol', message: 'Check the samples', since: iso(7), by: null },
      current: { index: 2, type: 'pause', startedAt: iso(7) },
      progress: { completed: 2, total: 5 },
      allowedActions: ['play', 'resume', 'stop'],
    });
  });

  it('completes when the run is resumed: started at the pause, completed at the resume', () => {
    const state = given([...toProtocolPause, accepted('resume'), succeeded(2)]);
    expect(state.status).toBe('running');
    expect(toStatusDocument(state).pause).toBeNull();
    expect(at(state.records, 2)).toMatchObject({ index: 2, status: 'succeeded', startedAt: iso(7), completedAt: iso(9), error: null, attempts: null });
  });

  it('fails with "run stopped" when the run is stopped, and the run ends stopped', () => {
    const state = given([...toProtocolPause, accepted('stop'), { type: 'command.failed', index: 2, code: 'stopped', message: 'run stopped' }]);
    expect(state.status).toBe('stopped');
    expect(state.completedAt).toBe(iso(9));
    expect(at(state.records, 2)?.error).toEqual({ code: 'stopped', message: 'run stopped' });
    expect(toStatusDocument(state)).toMatchObject({ error: null, allowedActions: [], progress: { completed: 2, total: 5 } });
  });
});

describe('a user pause', () => {
  it('waits for the current motion to end (pausing), then pauses with since = when it ended', () => {
    const pausing = given([accepted('play'), started(0), accepted('pause', { by: 'ana', message: 'refill tips' })]);
    expect(toStatusDocument(pausing)).toMatchObject({
      status: 'pausing',
      pause: { source: 'user', message: 'refill tips', by: 'ana', since: null },
      allowedActions: ['stop'],
    });
    const paused = given([succeeded(0)], pausing);
    expect(toStatusDocument(paused)).toMatchObject({
      status: 'paused',
      pause: { source: 'user', message: 'refill tips', by: 'ana', since: iso(5) },
      current: null,
      progress: { completed: 1, total: 5 },
    });
  });

  it('takes effect mid-move when the feed hold completes (motion.held), with since = that moment', () => {
    const held = given([accepted('play'), started(0), accepted('pause', { by: 'ana' }), { type: 'motion.held', index: 0 }]);
    expect(toStatusDocument(held)).toMatchObject({ status: 'paused', pause: { source: 'user', by: 'ana', since: iso(5) }, current: { index: 0, type: 'home' } });
    // A hold reported for a run that is not pausing changes nothing.
    const running = given([accepted('play'), started(0)]);
    expect(given([{ type: 'motion.held', index: 0 }], running).status).toBe('running');
  });

  it('takes effect at once between commands', () => {
    expect(toStatusDocument(given([accepted('play'), accepted('pause')])).pause).toMatchObject({ source: 'user', since: iso(3) });
  });
});

describe('a delay', () => {
  const inDelay = [...toProtocolPause, accepted('resume'), succeeded(2), started(3)]; // delay starts at iso(10)

  it('shows its remaining time and when it ends', () => {
    expect(toStatusDocument(given(inDelay)).delay).toEqual({ index: 3, seconds: 30, message: 'Incubate', remainingSeconds: 30, endsAt: iso(40) });
  });

  it('freezes its countdown while paused and picks it up on resume', () => {
    const paused = given([accepted('pause')], given(inDelay)); // paused at iso(11): 29 s left
    expect(toStatusDocument(paused).delay).toMatchObject({ remainingSeconds: 29, endsAt: null });
    // Any later fact (here a refused action, one second on) must not move the frozen countdown.
    const later = given([{ type: 'action.rejected', actionId: 'z', action: 'pause', code: 'already-paused', message: '' }], paused);
    expect(toStatusDocument(later).delay).toMatchObject({ remainingSeconds: 29, endsAt: null }); // still 29 at iso(12)
    const resumed = given([accepted('resume')], later); // resumed at iso(13)
    expect(toStatusDocument(resumed).delay).toMatchObject({ remainingSeconds: 29, endsAt: iso(42) });
  });

  it('ends on skip-delay', () => {
    const state = given([accepted('skip-delay'), succeeded(3)], given(inDelay));
    expect(state.delay).toBeNull();
    expect(state.current).toBeNull();
    expect(at(state.records, 3)?.error).toBeNull();
  });
});

describe('stop', () => {
  it('ends a run with nothing in flight at once', () => {
    expect(given([accepted('play'), accepted('stop')]).status).toBe('stopped');
  });

  it('waits for motion to be stopped (stopping), then ends stopped with the move failed', () => {
    const stopping = given([accepted('play'), started(0), accepted('stop')]);
    expect(stopping.status).toBe('stopping');
    const stopped = given([{ type: 'command.failed', index: 0, code: 'stopped', message: 'run stopped' }], stopping);
    expect(stopped.status).toBe('stopped');
    expect(stopped.error).toBeNull();
  });
});

describe('a failed command', () => {
  it('fails the run with the command error', () => {
    const state = given([accepted('play'), started(0), succeeded(0), started(1), failed(1, 'ALARM:1 hard limit')]);
    expect(toStatusDocument(state)).toMatchObject({
      status: 'failed',
      error: { code: 'hardware-error', message: 'ALARM:1 hard limit', commandIndex: 1 },
      progress: { completed: 1, total: 5 },
      completedAt: iso(6),
    });
  });
});

describe('the interlock', () => {
  it('blocks the run, and on clearing leaves it paused (source interlock) until an explicit resume', () => {
    const blocked = given([accepted('play'), started(0), { type: 'interlock.changed', active: true, message: 'door open' }]);
    expect(toStatusDocument(blocked).pause).toMatchObject({ source: 'interlock', message: 'door open', since: iso(4), by: null });
    const cleared = given([{ type: 'interlock.changed', active: false, message: 'door closed: check the machine, then resume' }], blocked);
    expect(cleared.status).toBe('paused');
    expect(toStatusDocument(cleared).pause).toMatchObject({ source: 'interlock', message: 'door closed: check the machine, then resume', since: iso(4), by: null });
  });
});

describe('apply', () => {
  it('never changes the state it is given (older states stay valid after a branch)', () => {
    const base = given([accepted('play'), started(0), succeeded(0)]);
    const visible = (state: typeof base) =>
      JSON.stringify({ ...state, answers: [...state.answers.entries].filter(([, e]) => e.order < state.answers.size), records: state.records.items.slice(0, state.records.length) });
    const snapshot = visible(base);
    const a = given([started(1), succeeded(1)], base);
    const b = given([started(1), failed(1)], base);
    expect(visible(base)).toBe(snapshot);
    expect(at(a.records, 1)?.error).toBeNull();
    expect(at(b.records, 1)?.error).toMatchObject({ message: 'limit switch hit' });
  });

  it('refuses to create a run twice', () => {
    expect(() => given([{ type: 'run.created', deviceId: 'x', protocol: created().protocol }])).toThrow(/already exists/);
  });
});
