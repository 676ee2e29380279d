import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '@labrun/service';
import { ActionRelay, readPress } from './action-relay.js';
import { Fleet } from './fleet.js';

function setup() {
  const fleet = new Fleet();
  const lines: string[] = [];
  const log: Logger = { debug: () => {}, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`), child: () => log };
  const sent: { topic: string; payload: string }[] = [];
  const subscribe = vi.fn(async () => {});
  const unsubscribe = vi.fn(async () => {});
  const relay = new ActionRelay({ fleet, log, subscribe, unsubscribe, publish: async (topic, payload) => void sent.push({ topic, payload }) });
  return { fleet, relay, lines, sent, subscribe, unsubscribe };
}

describe('a button press', () => {
  it.each(['resume', 'pause', 'stop', ' resume\n'])('reads %j as a press', (word) => {
    expect(readPress(Buffer.from(word))).toEqual({ ok: true, action: word.trim() });
  });

  it.each([[''], ['PRESS'], ['skip-delay'], ['{"type":"resume"}'], ['x'.repeat(300)]])('refuses %j with a reason', (payload) => {
    expect(readPress(Buffer.from(payload)).ok).toBe(false);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(readPress(Buffer.from([0xff, 0xfe, 0x00]))).toEqual({ ok: false, error: 'payload is not valid UTF-8' });
  });

  it("sends the action to the device's current run, as home-assistant, with an id of its own", async () => {
    const { fleet, relay, sent, subscribe } = setup();
    fleet.setCurrentRun('robot-1', { runId: 'r-7', status: 'paused' });
    await relay.press('robot-1', Buffer.from('resume'));
    expect(subscribe).toHaveBeenCalledWith('run/r-7/events');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe('run/r-7/actions');
    expect(JSON.parse(sent[0]!.payload)).toEqual({ type: 'resume', id: expect.stringMatching(/^ha-/), by: 'home-assistant' });
    relay.close();
  });

  it('logs a press for a device with no current run, and sends nothing', async () => {
    const { relay, sent, lines } = setup();
    await relay.press('robot-1', Buffer.from('stop'));
    expect(sent).toEqual([]);
    expect(lines).toEqual(['warn ignored a Home Assistant stop: device robot-1 has no current run']);
  });

  it("logs the engine's rejection with its reason, then stops watching the run's events", async () => {
    const { fleet, relay, sent, lines, unsubscribe } = setup();
    fleet.setCurrentRun('robot-1', { runId: 'r-7', status: 'running' });
    await relay.press('robot-1', Buffer.from('resume'));
    const { id } = JSON.parse(sent[0]!.payload) as { id: string };
    relay.answer('r-7', Buffer.from(JSON.stringify({ type: 'action.rejected', actionId: 'someone-else', code: 'x', message: 'x' })));
    expect(lines.filter((l) => l.includes('rejected'))).toEqual([]);
    relay.answer('r-7', Buffer.from(JSON.stringify({ type: 'action.rejected', actionId: id, action: 'resume', code: 'not-paused', message: 'cannot resume run r-7: it is running, not paused' })));
    expect(lines.at(-1)).toBe('warn the engine rejected a Home Assistant resume: cannot resume run r-7: it is running, not paused');
    await vi.waitFor(() => expect(unsubscribe).toHaveBeenCalledWith('run/r-7/events'));
  });

  it('ignores garbage on the events topic', () => {
    const { relay } = setup();
    for (const payload of ['', 'null', '[]', '{"actionId":5}', '\u0000', '{'.repeat(100)]) expect(() => relay.answer('r-7', Buffer.from(payload))).not.toThrow();
  });
});
