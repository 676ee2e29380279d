import { describe, expect, it } from 'vitest';
import { parseDeviceCurrentTopic, parseEngineOnlineTopic, parseHaActionTopic, parseHwTopic, parseRunTopic, topicMatches, topics } from './topics.js';

describe('run topics', () => {
  it('builds and parses run/<id>/<kind> symmetrically', () => {
    for (const kind of ['create', 'actions', 'status', 'events'] as const) {
      const topic = topics.run('r-42', kind);
      expect(topic).toBe(`run/r-42/${kind}`);
      expect(parseRunTopic(topic)).toEqual({ ok: true, value: { runId: 'r-42', kind } });
    }
  });

  it.each([
    ['run/+/actions', "must not contain '+'"],
    ['run/#/actions', "must not contain '+', '#'"],
    ['run/a\u0001b/actions', 'control characters'],
    ['run//actions', 'must not be empty'],
    ['run/$SYS/actions', "must not start with '$'"],
    ['run/a/b/actions', 'expected run/<runId>/<kind>'],
    ['runs/a/actions', 'not a run topic'],
    ['run/a/launch', 'unknown run topic kind'],
  ])('rejects %j with a reason', (topic, reason) => {
    const parsed = parseRunTopic(topic);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(reason);
  });

  it('refuses to build a topic from an id with wildcards or separators', () => {
    expect(() => topics.run('a/b', 'status')).toThrow(/must not contain/);
    expect(() => topics.run('a+', 'status')).toThrow(/must not contain/);
    expect(() => topics.hw('#', 'state')).toThrow(/must not contain/);
  });

  it('parses hardware topics', () => {
    expect(parseHwTopic('hw/sim-1/state')).toEqual({ ok: true, value: { deviceId: 'sim-1', kind: 'state' } });
    expect(parseHwTopic('hw/sim-1/bogus').ok).toBe(false);
    expect(parseHwTopic('hw/+/state').ok).toBe(false);
  });

  it("parses an engine's online topic", () => {
    expect(parseEngineOnlineTopic('engine/engine-1/online')).toEqual({ ok: true, value: { engineId: 'engine-1' } });
    for (const topic of ['engine/engine-1/replies', 'engine/+/online', 'engine/online', 'run/engine-1/online']) {
      expect([topic, parseEngineOnlineTopic(topic)]).toEqual([topic, { ok: false, error: 'expected engine/<engineId>/online' }]);
    }
  });

  it("builds and parses a device's current-run topic", () => {
    expect(parseDeviceCurrentTopic(topics.deviceCurrent('sim-1'))).toEqual({ ok: true, value: { deviceId: 'sim-1' } });
    expect(parseDeviceCurrentTopic('device/sim-1/state')).toEqual({ ok: false, error: 'not a device topic: "device/sim-1/state" (expected device/<deviceId>/current)' });
    expect(parseDeviceCurrentTopic('device/a/b/current').ok).toBe(false);
    expect(parseDeviceCurrentTopic('device/+/current')).toMatchObject({ ok: false, error: expect.stringContaining("must not contain '+'") });
  });
});

describe('Home Assistant bridge topics', () => {
  it("builds and parses a device's action topic, inside the bridge's subscription", () => {
    const topic = topics.haAction('robot-1');
    expect(topic).toBe('labrun/ha/robot-1/action');
    expect(parseHaActionTopic(topic)).toEqual({ ok: true, value: { deviceId: 'robot-1' } });
    expect(topicMatches(topics.allHaActions(), topic)).toBe(true);
  });

  it.each(['labrun/ha/robot-1/actions', 'labrun/ha//action', 'labrun/ha/a/b/action', 'labrun/hb/robot-1/action', 'labrun/ha/$x/action'])('refuses %j', (topic) => {
    expect(parseHaActionTopic(topic).ok).toBe(false);
  });
});
