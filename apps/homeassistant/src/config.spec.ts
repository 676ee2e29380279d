import { ConfigError } from '@labrun/contracts';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('the bridge configuration', () => {
  it('takes the discovery prefix from LABRUN_HA_DISCOVERY, with a settle time of 2 s by default', () => {
    expect(loadConfig({ LABRUN_HA_DISCOVERY: 'homeassistant' })).toMatchObject({ LABRUN_HA_DISCOVERY: 'homeassistant', LABRUN_HA_SETTLE_MS: 2000, MQTT_URL: 'mqtt://127.0.0.1:1883' });
    expect(loadConfig({ LABRUN_HA_DISCOVERY: 'lab/ha', LABRUN_HA_SETTLE_MS: '0' })).toMatchObject({ LABRUN_HA_DISCOVERY: 'lab/ha', LABRUN_HA_SETTLE_MS: 0 });
  });

  it('refuses to start without LABRUN_HA_DISCOVERY, saying what to set', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/LABRUN_HA_DISCOVERY="": not set: expected Home Assistant's MQTT discovery prefix, usually homeassistant/);
  });

  it.each([
    ['home/+', 'without the MQTT wildcards'],
    ['homeassistant/#', 'without the MQTT wildcards'],
    ['/homeassistant', 'no empty topic level'],
    ['homeassistant/', 'no empty topic level'],
    ['a//b', 'no empty topic level'],
    ['$SYS', 'belong to the broker'],
    ['home\u0001assistant', 'no control characters'],
    ['h'.repeat(201), 'at most 200 characters'],
  ])('refuses the prefix %j: %s', (prefix, reason) => {
    expect(() => loadConfig({ LABRUN_HA_DISCOVERY: prefix })).toThrow(reason);
  });

  it('refuses a settle time that is not a number of milliseconds', () => {
    expect(() => loadConfig({ LABRUN_HA_DISCOVERY: 'homeassistant', LABRUN_HA_SETTLE_MS: 'soon' })).toThrow(/LABRUN_HA_SETTLE_MS="soon": expected milliseconds/);
    expect(() => loadConfig({ LABRUN_HA_DISCOVERY: 'homeassistant', LABRUN_HA_SETTLE_MS: '-1' })).toThrow(/LABRUN_HA_SETTLE_MS/);
  });
});
