// Who serves which device and who answers for the fleet, from the engines' retained announcements alone.
import { describe, expect, it } from 'vitest';
import type { Logger } from '@labrun/service';
import { Fleet } from './fleet.js';

const T0 = '2026-12-04T10:00:00.000Z';
const T1 = '2026-12-04T10:00:01.000Z';

function fleet(ownId: string, claims: string[], since = T1) {
  const lines: string[] = [];
  const log: Logger = { debug: () => {}, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`), child: () => log };
  const f = new Fleet(ownId, claims, since, log);
  const online = (id: string, up: boolean | '') => f.handle(`engine/${id}/online`, Buffer.from(up === '' ? '' : String(up)));
  const announce = (id: string, devices: string[], onlineSince = T0) =>
    f.handle(
      `engine/${id}/status`,
      Buffer.from(JSON.stringify({ engineId: id, devices, standby: [], onlineSince, journal: { writable: true, error: null, since: T0 }, activeRuns: 0, maxActiveRuns: 1000, at: T0 })),
    );
  return { f, lines, online, announce };
}

describe('Fleet', () => {
  it('alone, serves every device it claims and leads', () => {
    const { f } = fleet('e2', ['d1', 'd2']);
    expect(f.resolve()).toEqual({ took: ['d1', 'd2'], yielded: [] });
    expect(f.devices).toEqual(['d1', 'd2']);
    expect(f.isLeader).toBe(true);
    expect(f.servedBy('d9')).toBeNull();
  });

  it('leaves to another online engine the devices it announces, and the lowest online id leads', () => {
    const { f, online, announce } = fleet('e2', ['d2']);
    announce('e1', ['d1']);
    expect(f.isLeader).toBe(true); // e1 is not online yet: its status alone says nothing of that
    online('e1', true);
    f.resolve();
    expect(f.leader).toBe('e1');
    expect(f.servedBy('d1')).toBe('e1');
    expect(f.servedBy('d2')).toBe('e2');
    expect(f.otherDevices()).toEqual(['d1']);
    online('e1', false);
    expect(f.servedBy('d1')).toBeNull();
    expect(f.isLeader).toBe(true);
  });

  it('stands by for a device an engine online before it serves, and takes it over once that engine is offline', () => {
    const { f, lines, online, announce } = fleet('e0', ['d1']);
    announce('e1', ['d1'], T0);
    online('e1', true);
    expect(f.resolve()).toEqual({ took: [], yielded: [{ deviceId: 'd1', servedBy: 'e1' }] });
    expect(f.serves('d1')).toBe(false);
    expect(f.standby).toEqual([{ deviceId: 'd1', servedBy: 'e1' }]);
    expect(lines).toContainEqual(expect.stringMatching(/^error refusing to serve device d1: engine e1 serves it/));
    expect(f.resolve()).toEqual({ took: [], yielded: [] }); // said once
    online('e1', false);
    expect(f.resolve()).toEqual({ took: ['d1'], yielded: [] });
    expect(lines).toContainEqual('warn engine e1 is offline: taking over device d1');
    expect(f.standby).toEqual([]);
  });

  it('keeps a device against an engine that came online after it; of two at once, the lower id keeps it', () => {
    const later = fleet('e5', ['d1'], T0);
    later.announce('e1', ['d1'], T1);
    later.online('e1', true);
    expect(later.f.resolve()).toEqual({ took: ['d1'], yielded: [] });
    const tie = fleet('e5', ['d1'], T0);
    tie.announce('e1', ['d1'], T0);
    tie.online('e1', true);
    expect(tie.f.resolve().yielded).toEqual([{ deviceId: 'd1', servedBy: 'e1' }]);
  });

  it("knows other engines' runs from their statuses, forgets a cleared one, and ignores its own and unreadable messages", () => {
    const { f, online } = fleet('e1', ['d1']);
    f.noteRunStatus('r-1', Buffer.from('{"runId":"r-1","engineId":"e2","status":"paused"}'));
    f.noteRunStatus('r-2', Buffer.from('{"runId":"r-2","engineId":"e1"}'));
    expect(f.runHolder('r-1')).toBe('e2');
    expect(f.runHolder('r-2')).toBeUndefined();
    f.noteRunStatus('r-1', Buffer.alloc(0));
    expect(f.runHolder('r-1')).toBeUndefined();
    expect(online('e0', 'maybe' as unknown as boolean)).toBe(true); // an engine topic, but says nothing
    expect(f.handle('engine/e0/status', Buffer.from('{not json'))).toBe(true);
    expect(f.isLeader).toBe(true);
    expect(f.handle('hw/d1/state', Buffer.from('{}'))).toBe(false);
  });
});
