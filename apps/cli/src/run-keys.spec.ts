// Unit tests of the keys `labrun run` answers on a terminal and the hint that names them.
import { describe, expect, it } from 'vitest';
import type { ActionType } from '@labrun/contracts';
import { statusDocument as statusOf } from '@labrun/testkit';
import { actionForKey, formatKeyHint, offeredActions } from './run-keys.js';

const allowing = (...allowedActions: ActionType[]) => statusOf('r-1', { status: 'awaiting-recovery', allowedActions });

describe('offeredActions and formatKeyHint', () => {
  it('offers Enter to resume a paused run, and names the command that does it from elsewhere', () => {
    const paused = statusOf('r-1', { status: 'paused', allowedActions: ['play', 'resume', 'stop'] });
    expect(offeredActions(paused)).toEqual(['resume']);
    expect(formatKeyHint(paused, true)).toBe('press Enter to resume (or run: labrun resume r-1)');
    expect(formatKeyHint(paused, false)).toBe('resume it with: labrun resume r-1');
  });

  it('offers exactly the recovery actions allowedActions lists: no retry before the machine is homed', () => {
    expect(formatKeyHint(allowing('skip', 'home', 'unlock', 'stop'), true)).toBe('press s to skip, h to home, u to unlock (or run: labrun skip|home|unlock r-1)');
    expect(formatKeyHint(allowing('retry', 'skip', 'home', 'unlock', 'stop'), true)).toBe('press r to retry, s to skip, h to home, u to unlock (or run: labrun retry|skip|home|unlock r-1)');
    expect(formatKeyHint(allowing('retry', 'skip', 'stop'), false)).toBe('recover it with: labrun retry|skip r-1');
  });

  it('offers nothing when only actions without a key are allowed (stop, pause, play)', () => {
    expect(formatKeyHint(allowing('stop'), true)).toBeNull();
    expect(formatKeyHint(statusOf('r-1', { status: 'running', allowedActions: ['pause', 'stop'] }), true)).toBeNull();
    expect(formatKeyHint(statusOf('r-1'), false)).toBeNull();
  });
});

describe('actionForKey', () => {
  it('sends the key’s action only while the status allows it', () => {
    const status = allowing('skip', 'home', 'stop');
    expect(['s', 'h', 'r', 'u', '\r', 'x'].map((key) => actionForKey(key, status))).toEqual(['skip', 'home', null, null, null, null]);
    expect(actionForKey('\r', statusOf('r-1', { status: 'paused', allowedActions: ['play', 'resume', 'stop'] }))).toBe('resume');
    expect(actionForKey('\n', statusOf('r-1', { status: 'paused', allowedActions: ['play', 'resume', 'stop'] }))).toBe('resume');
  });

  it('leaves capitals alone: a terminal’s Home key arrives as ESC [ H, and no capital letter acts', () => {
    expect(actionForKey('H', allowing('home'))).toBeNull();
  });
});
