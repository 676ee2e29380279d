import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@labrun/service';
import { Announcer } from './announcer.js';
import { deviceConfigs } from './discovery.js';
import { Fleet } from './fleet.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };
const SETTLE_MS = 1000;

function setup() {
  const fleet = new Fleet();
  const published: { topic: string; payload: string }[] = [];
  const announcer = new Announcer({ prefix: 'homeassistant', fleet, log: quiet, settleMs: SETTLE_MS, publishRetained: (topic, payload) => published.push({ topic, payload }) });
  const latest = (topic: string) => published.filter((m) => m.topic === topic).at(-1)?.payload;
  const configTopics = (deviceId: string) => deviceConfigs('homeassistant', deviceId).map((m) => m.topic);
  return { fleet, announcer, published, latest, configTopics };
}

describe('the announcer', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('announces a device an online engine serves, with its engine flag true', () => {
    const { fleet, announcer, latest, configTopics } = setup();
    fleet.setEngineOnline('e1', true);
    fleet.setEngineDevices('e1', ['robot-1']);
    announcer.update();
    for (const topic of configTopics('robot-1')) expect(JSON.parse(latest(topic)!)).toMatchObject({ device: { identifiers: ['labrun_robot-1'] } });
    expect(latest('labrun/ha/robot-1/engine')).toBe('true');
    expect(announcer.devices()).toEqual(['robot-1']);
  });

  it("announces a device whose hardware is online but no engine serves, with its engine flag false; not one an offline engine's status lists", () => {
    const { fleet, announcer, latest } = setup();
    fleet.setHardwareOnline('robot-2', true);
    fleet.setEngineOnline('e9', false);
    fleet.setEngineDevices('e9', ['robot-9']);
    announcer.update();
    expect(announcer.devices()).toEqual(['robot-2']);
    expect(latest('labrun/ha/robot-2/engine')).toBe('false');
  });

  it('keeps a device while either its engine or its hardware is there, and flags the engine going away', () => {
    const { fleet, announcer, latest } = setup();
    fleet.setEngineOnline('e1', true);
    fleet.setEngineDevices('e1', ['robot-1']);
    fleet.setHardwareOnline('robot-1', true);
    announcer.update();
    fleet.setEngineOnline('e1', false);
    announcer.update();
    vi.advanceTimersByTime(SETTLE_MS * 5);
    expect(announcer.devices()).toEqual(['robot-1']);
    expect(latest('labrun/ha/robot-1/engine')).toBe('false');
  });

  it('removes the configs (empty retained) once the device has been gone for the settle time', () => {
    const { fleet, announcer, latest, configTopics } = setup();
    fleet.setEngineOnline('e1', true);
    fleet.setEngineDevices('e1', ['robot-1']);
    fleet.setHardwareOnline('robot-1', true);
    announcer.update();
    fleet.setEngineDevices('e1', []);
    fleet.setHardwareOnline('robot-1', false);
    announcer.update();
    vi.advanceTimersByTime(SETTLE_MS - 1);
    expect(announcer.devices()).toEqual(['robot-1']);
    vi.advanceTimersByTime(1);
    expect(announcer.devices()).toEqual([]);
    for (const topic of [...configTopics('robot-1'), 'labrun/ha/robot-1/engine']) expect(latest(topic)).toBe('');
  });

  it('keeps a device that comes back within the settle time (everything restarting)', () => {
    const { fleet, announcer, published } = setup();
    fleet.setHardwareOnline('robot-1', true);
    announcer.update();
    fleet.setHardwareOnline('robot-1', false);
    announcer.update();
    vi.advanceTimersByTime(SETTLE_MS / 2);
    fleet.setHardwareOnline('robot-1', true);
    announcer.update();
    vi.advanceTimersByTime(SETTLE_MS * 2);
    expect(announcer.devices()).toEqual(['robot-1']);
    expect(published.filter((m) => m.payload === '')).toEqual([]);
  });

  it('republishes every config when asked (Home Assistant came online)', () => {
    const { fleet, announcer, published, configTopics } = setup();
    fleet.setHardwareOnline('robot-1', true);
    announcer.update();
    published.length = 0;
    announcer.announceAll('Home Assistant came online');
    expect(published.map((m) => m.topic)).toEqual([...configTopics('robot-1'), 'labrun/ha/robot-1/engine']);
  });

  it("after connecting, removes retained labrun configs for devices that are not there, and leaves its own and others' alone", () => {
    const { fleet, announcer, published, configTopics } = setup();
    const swept = vi.fn();
    announcer.connected(swept);
    fleet.setHardwareOnline('robot-1', true);
    announcer.update();
    const retained = (deviceId: string) => deviceConfigs('homeassistant', deviceId).map((m) => ({ topic: m.topic, payload: Buffer.from(JSON.stringify(m.config)) }));
    for (const { topic, payload } of [...retained('robot-1'), ...retained('gone-1')]) announcer.configSeen(topic, payload, true);
    announcer.configSeen('homeassistant/sensor/zigbee_lamp/power/config', Buffer.from('{"device":{"identifiers":["lamp"]}}'), true);
    // A labrun config seen live (not retained) is one just published, not one left over.
    announcer.configSeen(deviceConfigs('homeassistant', 'live-1')[0]!.topic, retained('live-1')[0]!.payload, false);
    published.length = 0;
    vi.advanceTimersByTime(SETTLE_MS);
    expect(swept).toHaveBeenCalledOnce();
    expect(published).toEqual(configTopics('gone-1').map((topic) => ({ topic, payload: '' })));
  });
});
