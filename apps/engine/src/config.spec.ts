// The engine's fleet settings: ENGINE_DEVICES (which devices it serves) and the device a create naming none is for.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('the engine configuration', () => {
  it('serves DEVICE_ID alone by default, and sim-1 without either', () => {
    expect(loadConfig({ DEVICE_ID: 'robot-1' })).toMatchObject({ devices: ['robot-1'], defaultDeviceId: 'robot-1' });
    expect(loadConfig({})).toMatchObject({ devices: ['sim-1'], defaultDeviceId: 'sim-1', LABRUN_FLEET_SETTLE_MS: 500 });
  });

  it('serves the devices ENGINE_DEVICES names; a create naming none is for DEVICE_ID if it is one of them, else the first', () => {
    expect(loadConfig({ ENGINE_DEVICES: ' robot-2, robot-3,', DEVICE_ID: 'robot-3' })).toMatchObject({ devices: ['robot-2', 'robot-3'], defaultDeviceId: 'robot-3' });
    expect(loadConfig({ ENGINE_DEVICES: 'robot-2,robot-3', DEVICE_ID: 'robot-9' })).toMatchObject({ devices: ['robot-2', 'robot-3'], defaultDeviceId: 'robot-2' });
  });

  it('refuses an ENGINE_DEVICES that is not a list of device ids, naming the variable and what is wrong', () => {
    expect(() => loadConfig({ ENGINE_DEVICES: 'robot-1,robot/2' })).toThrow(/ENGINE_DEVICES="robot-1,robot\/2": expected device ids separated by commas/);
    expect(() => loadConfig({ ENGINE_DEVICES: 'robot-1,robot-1' })).toThrow(/ENGINE_DEVICES="robot-1,robot-1": names a device twice/);
    expect(() => loadConfig({ ENGINE_DEVICES: ' , ' })).toThrow(/ENGINE_DEVICES=" , ": expected at least one device id/);
    expect(() => loadConfig({ LABRUN_FLEET_SETTLE_MS: 'soon' })).toThrow(/LABRUN_FLEET_SETTLE_MS="soon": expected a number of milliseconds/);
  });

  it('serves no metrics unless METRICS_PORT is set, then on 127.0.0.1 unless METRICS_HOST says otherwise', () => {
    expect(loadConfig({}).METRICS_PORT).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '0' })).toMatchObject({ METRICS_PORT: 0, METRICS_HOST: '127.0.0.1' });
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' })).toMatchObject({ METRICS_PORT: 9464, METRICS_HOST: '0.0.0.0' });
    expect(() => loadConfig({ METRICS_PORT: 'nine' })).toThrow(/METRICS_PORT="nine": expected a port number/);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT="70000": expected a port from 0 to 65535/);
  });
});
