// The G-code behind each output level, and the levels read back from GRBL's reports.
import { describe, expect, it } from 'vitest';
import { coolantAfter, outputLevels, outputLines } from './outputs.js';

const none = { flood: false, mist: false };

describe('outputLines', () => {
  it('drives a spindle output by its PWM: M3 S<value × $30>, with at most 3 decimals, and M5 at 0', () => {
    expect(outputLines('spindle', 0.5, none, 1000)).toEqual(['M3 S500']);
    expect(outputLines('spindle', 1, none, 24000)).toEqual(['M3 S24000']);
    expect(outputLines('spindle', 0.0000001, none, 1000)).toEqual(['M3 S0']);
    expect(outputLines('spindle', 0.1234567, none, 1000)).toEqual(['M3 S123.457']);
    expect(outputLines('spindle', 0, none, 1000)).toEqual(['M5']);
  });

  it('switches one coolant off with M9 and the other back on when it was on (M9 switches both)', () => {
    expect(outputLines('flood', 1, none, 1000)).toEqual(['M8']);
    expect(outputLines('mist', 1, none, 1000)).toEqual(['M7']);
    expect(outputLines('flood', 0, { flood: true, mist: false }, 1000)).toEqual(['M9']);
    expect(outputLines('flood', 0, { flood: true, mist: true }, 1000)).toEqual(['M9', 'M7']);
    expect(outputLines('mist', 0, { flood: true, mist: true }, 1000)).toEqual(['M9', 'M8']);
    expect(coolantAfter(['M9', 'M8'], { flood: true, mist: true })).toEqual({ flood: true, mist: false });
  });
});

describe('outputLevels', () => {
  it("reads a spindle output as its speed over $30 and a coolant output as on or off, by each output's name", () => {
    const outputs = new Map([
      ['pump', 'spindle'],
      ['valve', 'flood'],
      ['mister', 'mist'],
    ] as const);
    expect(outputLevels(outputs, { spindleRpm: 333, flood: true, mist: false }, 1000)).toEqual({ pump: 0.333, valve: 1, mister: 0 });
    expect(outputLevels(outputs, { spindleRpm: 0, flood: false, mist: true }, 1000)).toEqual({ pump: 0, valve: 0, mister: 1 });
  });
});
