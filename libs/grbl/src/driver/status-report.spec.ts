// Status reports, field by field, as interface.md describes them; and the alarm and error tables.
import { describe, expect, it } from 'vitest';
import { ALARM_CODES, ERROR_CODES, describeAlarm, describeError } from './codes.js';
import { classifyLine } from './messages.js';
import { completeStatus, parseStatusReport, type StatusMemory } from './status-report.js';

const empty: StatusMemory = { wco: null, overrides: null, accessories: null };
const full = (line: string, memory = empty) => completeStatus(parseStatusReport(line)!, line, memory);

describe('parseStatusReport', () => {
  it('reads every machine state and sub-state', () => {
    for (const state of ['Idle', 'Run', 'Hold', 'Jog', 'Alarm', 'Door', 'Check', 'Home', 'Sleep']) {
      expect(parseStatusReport(`<${state}|MPos:0.000,0.000,0.000>`)).toMatchObject({ state, subState: null });
    }
    expect(parseStatusReport('<Hold:0|MPos:0,0,0>')).toMatchObject({ state: 'Hold', subState: 0 });
    expect(parseStatusReport('<Hold:1|MPos:0,0,0>')).toMatchObject({ state: 'Hold', subState: 1 });
    for (const sub of [0, 1, 2, 3]) expect(parseStatusReport(`<Door:${sub}|MPos:0,0,0>`)).toMatchObject({ state: 'Door', subState: sub });
  });

  it('reads every field of a full report', () => {
    const line = '<Run|MPos:10.000,-20.500,5.000|Bf:12,87|Ln:99|FS:1500,8000|WCO:1.000,2.000,3.000|Pn:XYZPDHRS|Ov:110,50,90|A:SFM>';
    expect(parseStatusReport(line)).toEqual({
      state: 'Run',
      subState: null,
      mpos: { x: 10, y: -20.5, z: 5 },
      wco: { x: 1, y: 2, z: 3 },
      buffer: { plannerBlocksFree: 12, rxBytesFree: 87 },
      lineNumber: 99,
      feed: 1500,
      spindle: 8000,
      pins: { limitX: true, limitY: true, limitZ: true, limitA: false, probe: true, door: true, hold: true, softReset: true, cycleStart: true },
      overrides: { feed: 110, rapid: 50, spindle: 90 },
      accessories: { spindle: 'cw', flood: true, mist: true },
      other: {},
    });
  });

  it('reads F: (no variable spindle), WPos, a fourth axis, CCW spindle, fields in any order and unknown fields', () => {
    expect(parseStatusReport('<Idle|F:500|WPos:1.000,2.000,3.000,4.000|A:C|Pn:P|Foo:bar>')).toEqual({
      state: 'Idle',
      subState: null,
      feed: 500,
      wpos: { x: 1, y: 2, z: 3, a: 4 },
      accessories: { spindle: 'ccw', flood: false, mist: false },
      pins: { limitX: false, limitY: false, limitZ: false, limitA: false, probe: true, door: false, hold: false, softReset: false, cycleStart: false },
      other: { Foo: 'bar' },
    });
  });

  it('refuses malformed reports', () => {
    for (const line of [
      'Idle|MPos:0,0,0',
      '<Idle|MPos:0,0,0',
      '<Idle>',
      '<Walking|MPos:0,0,0>',
      '<Hold:x|MPos:0,0,0>',
      '<Hold:0:1|MPos:0,0,0>',
      '<Idle|MPos:0,0>',
      '<Idle|MPos:a,b,c>',
      '<Idle|MPos:1e3,0,0>',
      '<Idle|MPos:0,0,0|Bf:15>',
      '<Idle|MPos:0,0,0|FS:1>',
      '<Idle|MPos:0,0,0|Pn:Q>',
      '<Idle|MPos:0,0,0|A:Z>',
      '<Idle|MPos:0,0,0|Ov:100,100>',
      '<Idle|MPos:0,0,0|Ln:x>',
      '<Idle|MPos:0,0,0|nocolon>',
    ]) {
      expect(parseStatusReport(line), line).toBeUndefined();
    }
  });
});

describe('completeStatus', () => {
  it('computes WPos from MPos and WCO, and MPos from WPos and WCO', () => {
    expect(full('<Idle|MPos:10.000,5.000,1.000|WCO:1.500,2.000,0.250>').report).toMatchObject({
      mpos: { x: 10, y: 5, z: 1 },
      wpos: { x: 8.5, y: 3, z: 0.75 },
      wco: { x: 1.5, y: 2, z: 0.25 },
    });
    expect(full('<Idle|WPos:8.500,3.000,0.750|WCO:1.500,2.000,0.250>').report).toMatchObject({ mpos: { x: 10, y: 5, z: 1 }, wpos: { x: 8.5, y: 3, z: 0.75 } });
    expect(full('<Idle|WPos:1.000,2.000,3.000>').report).toMatchObject({ mpos: null, wpos: { x: 1, y: 2, z: 3 }, wco: null });
  });

  it('carries WCO, Ov and A over the reports that leave them out; Ov without A means every accessory is off', () => {
    let { report, memory } = full('<Idle|MPos:0.000,0.000,0.000|WCO:1.000,1.000,1.000|Ov:100,100,100|A:SF>');
    expect(report.accessories).toEqual({ spindle: 'cw', flood: true, mist: false });
    ({ report, memory } = full('<Run|MPos:5.000,0.000,0.000|FS:100,0>', memory));
    expect(report).toMatchObject({ wpos: { x: 4, y: -1, z: -1 }, overrides: { feed: 100 }, accessories: { spindle: 'cw' }, pins: { door: false } });
    ({ report, memory } = full('<Run|MPos:5.000,0.000,0.000|Ov:120,100,100>', memory));
    expect(report).toMatchObject({ overrides: { feed: 120 }, accessories: { spindle: 'off', flood: false, mist: false } });
    expect(report.raw).toBe('<Run|MPos:5.000,0.000,0.000|Ov:120,100,100>');
  });
});

describe('GRBL alarm and error tables', () => {
  it("has every alarm code of GRBL 1.1 (alarm_codes_en_US.csv: 1-10) with GRBL's text", () => {
    expect([...ALARM_CODES.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(describeAlarm(1)).toEqual({
      code: 1,
      name: 'Hard limit',
      message: 'Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended.',
    });
    expect(describeAlarm(7).message).toBe('Homing fail. Safety door was opened during active homing cycle.');
    expect(describeAlarm(10).message).toMatch(/^Homing fail. Second dual axis limit switch/);
    expect(describeAlarm(42)).toMatchObject({ code: 42, name: 'Unknown alarm' });
  });

  it("has every error code of GRBL 1.1 (error_codes_en_US.csv: 1-17, 20-38) with GRBL's text", () => {
    const codes = [...Array.from({ length: 17 }, (_, i) => i + 1), ...Array.from({ length: 19 }, (_, i) => i + 20)];
    expect([...ERROR_CODES.keys()]).toEqual(codes);
    for (const code of codes) expect(describeError(code).message.length, `error:${code}`).toBeGreaterThan(10);
    expect(describeError(9)).toEqual({ code: 9, name: 'G-code lock', message: 'G-code locked out during alarm or jog state' });
    expect(describeError(99)).toMatchObject({ code: 99, name: 'Unknown error' });
  });
});

describe('classifyLine', () => {
  it('tells every GRBL 1.1 message apart', () => {
    expect(classifyLine('ok')).toEqual({ type: 'ok' });
    expect(classifyLine('error:22')).toEqual({ type: 'error', code: 22 });
    expect(classifyLine('ALARM:9')).toEqual({ type: 'alarm', code: 9 });
    expect(classifyLine("Grbl 1.1h ['$' for help]")).toEqual({ type: 'welcome', version: '1.1h', before: '' });
    expect(classifyLine('$110=500.000')).toEqual({ type: 'setting', id: 110, value: '500.000' });
    expect(classifyLine('$N0=G54')).toEqual({ type: 'startup-line', index: 0, line: 'G54' });
    expect(classifyLine('[MSG:Caution: Unlocked]')).toEqual({ type: 'message', text: 'Caution: Unlocked' });
    expect(classifyLine('[PRB:0.000,0.000,0.000:0]')).toEqual({ type: 'feedback', kind: 'PRB', text: '0.000,0.000,0.000:0' });
    expect(classifyLine('[VER:1.1h.20190825:]')).toEqual({ type: 'feedback', kind: 'VER', text: '1.1h.20190825:' });
    expect(classifyLine('>G54G20:ok')).toEqual({ type: 'startup-executed', line: 'G54G20', result: 'ok' });
    expect(classifyLine('>G54G20:error:20')).toEqual({ type: 'startup-executed', line: 'G54G20', result: { error: 20 } });
    expect(classifyLine('<Idle|MPos:0.000,0.000,0.000|FS:0,0>')).toMatchObject({ type: 'status', fields: { state: 'Idle' } });
    expect(classifyLine('')).toEqual({ type: 'empty' });
    expect(classifyLine('Ok')).toMatchObject({ type: 'unexpected' });
  });
});
