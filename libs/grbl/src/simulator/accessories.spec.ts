// Spindle and coolant, byte for byte, as GRBL 1.1h has them: M3 S… / M5 / M7 / M8 / M9, the spindle speed in
// `FS:` and the accessories in `A:` (sent with `Ov:`, right after a change), what a feed hold, the safety door
// and a reset do to them. Fake timers; baud rate 0.
import { describe, expect, it } from 'vitest';
import { advance, BANNER, exchange, later, sim, start, status, unlocked, useSimulatorClock } from './session.spec-helpers.js';

useSimulatorClock();

/** The `A:` letters GRBL reports now: '' when its next `Ov:` report comes without `A:` (everything off). */
async function accessories(): Promise<string> {
  for (let i = 0; i < 30; i++) {
    const report = await status();
    if (report.Ov) return report.A ?? '';
  }
  throw new Error('no Ov: field in 30 reports');
}

describe('spindle and coolant', () => {
  it('reflect M3 S…, M8, M5 and M9 in the next report: the speed in FS, the outputs in A: with Ov:', async () => {
    await start({ settings: { 22: 0 } });
    expect(await exchange('?')).toEqual(['<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('M3 S500\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,500|Ov:100,100,100|A:S>']);
    expect(await exchange('?')).toEqual(['<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,500>']); // unchanged: no A:
    expect(await exchange('M8\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,500|Ov:100,100,100|A:SF>']);
    expect(await exchange('M5\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100|A:F>']);
    expect(await exchange('M9\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100>']);
    expect(await exchange('M4 S250\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,250|Ov:100,100,100|A:C>']);
    expect(await exchange('$G\n')).toEqual(['[GC:G0 G54 G17 G21 G90 G94 M4 M9 T0 F0 S250]', 'ok']);
  });

  it('limit the speed to $30 and show no spindle at S0 (GRBL switches its PWM off)', async () => {
    await start({ settings: { 22: 0 } });
    await exchange('?');
    expect(await exchange('M3 S5000\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,1000|Ov:100,100,100|A:S>']);
    expect(await exchange('S0\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100>']);
    expect(await exchange('$G\n')).toEqual(['[GC:G0 G54 G17 G21 G90 G94 M3 M9 T0 F0 S0]', 'ok']);
  });

  it('switch on only once the moves before them have finished, as GRBL syncs the planner first', async () => {
    await unlocked();
    expect(await exchange('G1 X10 F600\nM3 S500\n')).toEqual(['ok']); // M3 waits inside GRBL for the move
    await advance(500);
    expect(await status()).toMatchObject({ state: 'Run', FS: '600,0' });
    expect(await exchange('', 521)).toEqual(['ok']);
    expect(await status()).toMatchObject({ state: 'Idle', FS: '0,500', A: 'S' });
  });

  it('stay on through a feed hold', async () => {
    await unlocked();
    await exchange('M3 S500\nM8\nG1 X10 F600\n');
    await advance(500);
    await exchange('!');
    await advance(100);
    expect(await status()).toMatchObject({ state: 'Hold:0', FS: '0,500' });
    expect(await accessories()).toBe('SF');
    await exchange('~');
    expect(await status()).toMatchObject({ state: 'Run', FS: expect.stringMatching(/^\d+,500$/) });
  });

  it('are switched off by the safety door and restored on resume: Door:3 for the spindle (4 s) and the flood coolant (1 s)', async () => {
    await unlocked();
    await exchange('M3 S500\nM8\nG1 X10 F600\n');
    await advance(500);
    sim.setDoor(true);
    await advance(100);
    expect(await status()).toMatchObject({ state: 'Door:1', FS: '0,0', Pn: 'D' });
    expect(await accessories()).toBe('');
    expect(await exchange('M5\n')).toEqual([]); // no line is taken at the door: a switch-off waits for the resume
    sim.setDoor(false);
    await exchange('~');
    expect(await status()).toMatchObject({ state: 'Door:3', FS: '0,500' });
    expect(await accessories()).toBe('SF');
    await advance(4999);
    expect(sim.state.machine).toBe('Door:3');
    await advance(1);
    expect(sim.state.machine).toBe('Run');
    // Resumed: the M5 sent at the door is read now, and runs once the move has finished.
    expect(await later(600)).toEqual(['ok']);
    expect(await status()).toMatchObject({ state: 'Idle', FS: '0,0' });
    expect(await accessories()).toBe('F');
  });

  it('are switched off by a reset, which puts the parser back to M5 M9', async () => {
    await unlocked();
    await exchange('M3 S500\nM8\n');
    expect(await exchange([0x18])).toEqual(BANNER);
    expect(await exchange('?')).toEqual(['<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('?')).toEqual(['<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100>']);
    expect(await exchange('$G\n')).toEqual(['[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0]', 'ok']);
  });
});

describe('mist coolant', () => {
  it('is refused with error:20 by a default build', async () => {
    await start({ settings: { 22: 0 } });
    expect(await exchange('M7\n$I\n')).toEqual(['error:20', '[VER:1.1h.20190830:]', '[OPT:V+,15,128]', 'ok']);
  });

  it('with ENABLE_M7: M7 and M8 add up (one per line), M9 switches both off, and $I lists M', async () => {
    await start({ settings: { 22: 0 }, enableM7: true });
    expect(await exchange('$I\n')).toEqual(['[VER:1.1h.20190830:]', '[OPT:VM+,15,128]', 'ok']);
    await exchange('?');
    expect(await exchange('M7\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100|A:M>']);
    expect(await exchange('M8\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100|A:FM>']);
    expect(await exchange('$G\n')).toEqual(['[GC:G0 G54 G17 G21 G90 G94 M5 M7 M8 T0 F0 S0]', 'ok']);
    expect(await exchange('M7 M8\n')).toEqual(['error:21']); // one modal group
    expect(await exchange('M9\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100>']);
  });

  it('is not restored after the safety door: GRBL 1.1h brings back flood only', async () => {
    await unlocked({ enableM7: true });
    await exchange('M7\nM8\n');
    sim.setDoor(true);
    await advance(100);
    expect(await accessories()).toBe('');
    sim.setDoor(false);
    await exchange('~');
    expect(await accessories()).toBe('F');
    await advance(1000);
    expect(sim.state.machine).toBe('Idle');
    expect(await exchange('$G\n')).toEqual(['[GC:G0 G54 G17 G21 G90 G94 M5 M7 M8 T0 F0 S0]', 'ok']);
  });
});
