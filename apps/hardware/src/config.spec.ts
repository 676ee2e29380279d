// The hardware service's configuration: the outputs it offers (HARDWARE_OUTPUTS) and their defaults.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('HARDWARE_OUTPUTS', () => {
  it('defaults to a pump on the spindle and a valve on flood coolant on the built-in simulator, and to none on a serial port', () => {
    expect(loadConfig({}).HARDWARE_OUTPUTS).toEqual(
      new Map([
        ['pump', 'spindle'],
        ['valve', 'flood'],
      ]),
    );
    expect(loadConfig({ SERIAL_PATH: '/dev/ttyUSB0' }).HARDWARE_OUTPUTS).toEqual(new Map());
    expect(loadConfig({ HARDWARE_OUTPUTS: 'none' }).HARDWARE_OUTPUTS).toEqual(new Map());
  });

  it('reads name=accessory pairs in lab words', () => {
    expect(loadConfig({ SERIAL_PATH: '/dev/ttyUSB0', HARDWARE_OUTPUTS: ' waste_pump = spindle , rinse-valve=mist' }).HARDWARE_OUTPUTS).toEqual(
      new Map([
        ['waste_pump', 'spindle'],
        ['rinse-valve', 'mist'],
      ]),
    );
  });

  it.each([
    ['pump', '"pump" is not name=accessory'],
    ['pump=spindle=1', '"pump=spindle=1" is not name=accessory'],
    ['Pump=spindle', '"Pump" is not an output name (1-64 characters of a-z, 0-9, _ and -)'],
    ['pump=laser', '"laser" is not an accessory GRBL has'],
    ['pump=spindle,pump=flood', '"pump" is named twice'],
    ['pump=flood,valve=flood', 'flood is wired to two outputs'],
  ])('stops the service on %j, naming the variable and what it expects', (value, problem) => {
    expect(() => loadConfig({ HARDWARE_OUTPUTS: value })).toThrow(
      `HARDWARE_OUTPUTS=${JSON.stringify(value)}: ${problem}: expected outputs as name=accessory pairs such as pump=spindle,valve=flood (accessories: spindle, flood, mist), or none`,
    );
  });
});
