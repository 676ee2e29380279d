// Motion in simulated time: move duration with acceleration, feed hold and cycle start, soft reset, the safety
// door, hard and soft limits, dwell, program pause, homing and jogging. Default machine: 500 mm/s² on every axis,
// 10000 mm/min rapids on X and Y, travel 300 × 300 × 100 mm, homing towards - ($23=7). GRBL's geometry: machine
// zero at the + end, homed at -299,-299,-99. At power-up GRBL counts from 0,0,0 and the simulated machine stands
// at its home position, so an unhomed (`$X`) machine reaches -1…299 × -1…299 × -1…99 in the coordinates it counts.
import { describe, expect, it } from 'vitest';
import { advance, BANNER, exchange, later, sim, start, status, term, UNLOCK_HINT, unlocked, useSimulatorClock } from './session.spec-helpers.js';

const x = () => sim.state.position.x;

useSimulatorClock();

describe('a straight move', () => {
  it('takes distance / feed plus the acceleration ramps, and ends exactly at the target', async () => {
    await unlocked();
    // 10 mm at 600 mm/min (10 mm/s): 1 s at speed, plus 2 × 0.02 s ramps of which half is lost: 1.02 s.
    expect(await exchange('G1 X10 F600\n')).toEqual(['ok']); // answered when planned, not when done
    await advance(510);
    expect(await status()).toMatchObject({ state: 'Run', MPos: '5.000,0.000,0.000', FS: '600,0' });
    await advance(508);
    expect(sim.state.machine).toBe('Run');
    await advance(2);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 10, y: 0, z: 0 } });
  });

  it('moves G0 at the axes maximum rate ($110)', async () => {
    await unlocked();
    // 100 mm at 10000 mm/min: 0.333 s ramps of 27.8 mm each, 0.267 s at full speed: 0.933 s.
    await exchange('G0 X100\n');
    await advance(933);
    expect(sim.state.machine).toBe('Run');
    await advance(1);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 100, y: 0, z: 0 } });
  });

  it('goes relative in G91 and converts inches in G20', async () => {
    await unlocked();
    await exchange('G91 G0 X5\nG0 X5\nG20 G90 G0 Y1\n');
    await advance(2000);
    expect(sim.state.position).toEqual({ x: 10, y: 25.4, z: 0 });
  });
});

describe('feed hold and cycle start', () => {
  it('decelerates on ! (Hold:1), then holds short of the target (Hold:0) and stays there', async () => {
    await unlocked();
    await exchange('G1 X10 F600\n');
    await advance(500); // at 4.9 mm, 10 mm/s
    expect(await exchange('!')).toEqual([]);
    expect(await status()).toMatchObject({ state: 'Hold:1', FS: '600,0' });
    await advance(19);
    expect((await status()).state).toBe('Hold:1');
    await advance(2); // 10 mm/s at 500 mm/s²: 20 ms and 0.1 mm to stop
    expect(await status()).toMatchObject({ state: 'Hold:0', MPos: '5.000,0.000,0.000', FS: '0,0' });
    await advance(5000);
    expect(sim.state).toEqual({ machine: 'Hold:0', position: { x: 5, y: 0, z: 0 } });
    expect(term.answers).toEqual(['ok', 'ok']);
  });

  it('resumes on ~ and finishes at the target', async () => {
    await unlocked();
    await exchange('G1 X10 F600\n');
    await advance(500);
    await exchange('!');
    await advance(1000);
    expect(await exchange('~')).toEqual([]);
    expect(sim.state.machine).toBe('Run');
    await advance(519); // the remaining 5 mm from rest: 0.52 s
    expect(sim.state.machine).toBe('Run');
    await advance(2);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 10, y: 0, z: 0 } });
  });

  it('holds at once when idle (Hold:0) and ~ returns to Idle', async () => {
    await unlocked();
    await exchange('!');
    expect((await status()).state).toBe('Hold:0');
    await exchange('~');
    expect((await status()).state).toBe('Idle');
  });

  it('answers G4 P0 only once the moves before it are done', async () => {
    await unlocked();
    expect(await exchange('G1 X10 F600\nG4 P0\n')).toEqual(['ok']);
    expect(await later(1019)).toEqual([]);
    expect(await later(2)).toEqual(['ok']);
  });

  it('counts a dwell only while not held', async () => {
    await unlocked();
    await exchange('G4 P1.5\n');
    await advance(500);
    await exchange('!');
    expect(await later(1000)).toEqual([]);
    await exchange('~');
    expect(await later(999)).toEqual([]);
    expect(await later(1)).toEqual(['ok']);
  });

  it('pauses on M0 (Hold:0) until cycle start, which is when M0 is answered', async () => {
    await unlocked();
    expect(await exchange('G1 X5 F600\nM0\nG1 X10\n')).toEqual(['ok']);
    await advance(1000);
    expect(await status()).toMatchObject({ state: 'Hold:0', MPos: '5.000,0.000,0.000' });
    expect(await exchange('~')).toEqual(['ok', 'ok']);
    await advance(1000);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 10, y: 0, z: 0 } });
  });
});

describe('soft reset (0x18)', () => {
  it('keeps the position and raises no alarm when the machine is held', async () => {
    await unlocked();
    await exchange('G1 X10 F600\n');
    await advance(500);
    await exchange('!');
    await advance(100);
    expect(await exchange([0x18])).toEqual(BANNER);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 5, y: 0, z: 0 } });
    expect(await exchange('?')).toEqual(['<Idle|MPos:5.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
  });

  it('stops dead during motion with ALARM:3, then the banner 500 ms later, in Alarm', async () => {
    await unlocked();
    await exchange('G1 X10 F600\n');
    await advance(300); // 2.9 mm
    expect(await exchange([0x18])).toEqual(['ALARM:3']);
    expect(await later(499)).toEqual([]);
    expect(await later(1)).toEqual([...BANNER, UNLOCK_HINT]);
    expect(sim.state).toEqual({ machine: 'Alarm', position: { x: 2.9, y: 0, z: 0 } });
    await advance(2000);
    expect(x()).toBe(2.9);
  });

  it('raises ALARM:3 too while a hold is still decelerating (Hold:1)', async () => {
    await unlocked();
    await exchange('G1 X10 F600\n');
    await advance(500);
    await exchange('!');
    await advance(10);
    expect(await exchange([0x18])).toEqual(['ALARM:3']);
  });
});

describe('the safety door', () => {
  it('holds a move while open (Door:2 stopping, Door:1 stopped), Door:0 once closed, and ~ resumes it', async () => {
    await unlocked();
    await exchange('G1 X10 F600\n');
    await advance(500);
    sim.setDoor(true);
    await advance(0);
    expect(term.lines.at(-1)).toBe('[MSG:Check Door]');
    expect(await status()).toMatchObject({ state: 'Door:2', Pn: 'D' });
    await advance(21);
    expect(await status()).toMatchObject({ state: 'Door:1', MPos: '5.000,0.000,0.000', Pn: 'D' });
    expect(await exchange('~')).toEqual([]);
    await advance(3000);
    expect(sim.state).toEqual({ machine: 'Door:1', position: { x: 5, y: 0, z: 0 } }); // cycle start ignored: still open
    sim.setDoor(false);
    await advance(0);
    expect(await status()).toMatchObject({ state: 'Door:0', MPos: '5.000,0.000,0.000' });
    await advance(3000);
    expect(sim.state.machine).toBe('Door:0'); // closing the door does not restart anything by itself
    await exchange('~');
    expect(sim.state.machine).toBe('Run');
    await advance(521);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 10, y: 0, z: 0 } });
  });

  it('waits for the spindle to spin up again after the door (Door:3, 4 s)', async () => {
    await unlocked();
    await exchange('M3 S1000\nG1 X10 F600\n');
    await advance(500);
    sim.setDoor(true);
    await advance(100);
    expect(await status()).toMatchObject({ state: 'Door:1', FS: '0,0' }); // the door switched the spindle off
    sim.setDoor(false);
    await exchange('~');
    expect(await status()).toMatchObject({ state: 'Door:3', FS: '0,1000' });
    await advance(3999);
    expect(sim.state.machine).toBe('Door:3');
    await advance(1);
    expect(sim.state.machine).toBe('Run');
  });

  it('takes the 0x84 command like the switch; with the switch closed it ends at Door:0', async () => {
    await unlocked();
    await exchange('G1 X10 F600\n');
    await advance(500);
    expect(await exchange([0x84])).toEqual(['[MSG:Check Door]']);
    expect((await status()).state).toBe('Door:2');
    await advance(21);
    expect((await status()).state).toBe('Door:0');
    await exchange('~');
    expect(sim.state.machine).toBe('Run');
  });

  it('opened while idle goes straight to Door:1; reset with the door open comes back to the door', async () => {
    await unlocked();
    sim.setDoor(true);
    await advance(0);
    expect((await status()).state).toBe('Door:1');
    expect(await exchange('G0 X1\n')).toEqual([]); // suspended: lines wait in the buffer
    expect(await exchange([0x18])).toEqual([...BANNER, '[MSG:Check Door]']);
    expect(sim.state.machine).toBe('Door:1');
    expect(await exchange('$X\n')).toEqual([]);
  });
});

describe('limits', () => {
  it('stops a move on the travel boundary with ALARM:1 (hard limits, $21=1), and waits for a reset', async () => {
    await unlocked();
    await exchange('G0 X400\n');
    // Full speed (166.7 mm/s) after 27.8 mm of ramp: x reaches the + end (299 as counted since power-up) at 1.961 s.
    expect(await later(1960)).toEqual([]);
    expect(await later(2)).toEqual(['ALARM:1']);
    expect(sim.state).toEqual({ machine: 'Alarm', position: { x: 299, y: 0, z: 0 } });
    expect(await exchange('?')).toEqual([]); // nothing but a reset is answered now
    expect(await later(500)).toEqual(['[MSG:Reset to continue]']);
    expect(await exchange('$X\n')).toEqual([]);
    // CHECK_LIMITS_AT_INIT: the switch is still pressed when GRBL starts again.
    expect(await exchange([0x18])).toEqual([...BANNER, '[MSG:Check Limits]', UNLOCK_HINT]);
    expect(await exchange('?')).toEqual(['<Alarm|MPos:299.000,0.000,0.000|Bf:15,128|FS:0,0|Pn:X|WCO:0.000,0.000,0.000>']);
    expect(await exchange('$X\nG0 X200\n')).toEqual(['[MSG:Caution: Unlocked]', 'ok', 'ok']);
    await advance(2000);
    expect((await status()).Pn).toBeUndefined(); // off the switch
    expect(await exchange([0x18])).toEqual([...BANNER]); // and so no Check Limits
  });

  it("ends a homed machine's travel at machine zero: a move past it trips the + limit switch at MPos 0", async () => {
    await start();
    await exchange('$H\n', 2000);
    expect(sim.state.position).toEqual({ x: -299, y: -299, z: -99 });
    await exchange('G0 X10\n', 3000);
    expect(term.lines).toContain('ALARM:1');
    expect(sim.state).toEqual({ machine: 'Alarm', position: { x: 0, y: -299, z: -99 } });
  });

  it("raises ALARM:2 for a homed machine's target above machine zero, and takes one inside -300…0 (soft limits)", async () => {
    await start({ settings: { 20: 1 } });
    await exchange('$H\n', 2000);
    expect(await exchange('G0 X-300 Y-10 Z-50\n', 3000)).toEqual(['ok']);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: -300, y: -10, z: -50 } });
    expect(await exchange('G0 X10 Y20 Z5\n')).toEqual(['ALARM:2']);
    expect(sim.state.position).toEqual({ x: -300, y: -10, z: -50 });
  });

  it('refuses a target outside the travel with ALARM:2 before moving (soft limits, $20=1)', async () => {
    await unlocked({ settings: { 20: 1 } });
    expect(await exchange('G0 X400\n')).toEqual(['ALARM:2']);
    expect(await later(500)).toEqual(['[MSG:Reset to continue]']);
    expect(x()).toBe(0);
    // GRBL still answers the offending line after the reset, before its banner.
    expect(await exchange([0x18])).toEqual(['ok', ...BANNER, UNLOCK_HINT]);
  });

  it('brings a moving machine to a controlled stop before ALARM:2', async () => {
    await start({ settings: { 20: 1 } });
    await exchange('$H\n', 2000);
    await exchange('G1 X-289 F600\n');
    await advance(500);
    expect(await exchange('G1 X1\n')).toEqual([]);
    expect(await later(21)).toEqual(['ALARM:2']);
    expect(x()).toBe(-294);
  });
});

describe('homing ($H)', () => {
  it('searches, locates and pulls off Z then X and Y; the report asked for meanwhile comes as Home at the end', async () => {
    await unlocked();
    await exchange('G0 X100 Y50 Z20\n');
    await advance(3000);
    expect(await exchange('$H\n?')).toEqual([]);
    // Z: 21 mm search at $25=2000 mm/min, 1 mm pull-off, 1 mm at $24=200, 1 mm pull-off, 25 ms after each: 1.09 s.
    // X and Y together: 101 mm search, then the same: 3.49 s.
    expect(await later(4579)).toEqual([]);
    expect(await later(2)).toEqual(['<Home|MPos:-299.000,-299.000,-99.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>', 'ok']);
    // GRBL as shipped (no HOMING_FORCE_SET_ORIGIN): homed towards -, an axis stands at -max travel + pull-off.
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: -299, y: -299, z: -99 } });
  });

  it("leaves an axis homed towards + ($23 bit cleared, GRBL's factory $23=0) at MPos -pull-off", async () => {
    await start({ settings: { 23: 0, 27: 2 } });
    await exchange('$H\n', 3000);
    expect(term.lines).toContain('ok');
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: -2, y: -2, z: -2 } });
  });

  it('unlocks the alarm at power-up', async () => {
    await start();
    await exchange('$H\n');
    await advance(1000);
    expect(term.answers).toEqual(['ok']);
    expect(await exchange('G1 X1 F100\n')).toEqual(['ok']);
  });

  it('fails with ALARM:6 when reset mid-cycle', async () => {
    await unlocked();
    await exchange('$H\n');
    await advance(100);
    expect(await exchange([0x18])).toEqual(['ALARM:6']);
    expect(await later(500)).toEqual(['ok', ...BANNER, UNLOCK_HINT]);
  });

  it('fails with ALARM:7 when the door opens mid-cycle, and refuses to start with the door open', async () => {
    await unlocked();
    await exchange('$H\n');
    await advance(100);
    sim.setDoor(true);
    await advance(0);
    expect(term.lines.at(-1)).toBe('ALARM:7');
    await advance(500);
    expect(await exchange('$H\n')).toEqual(['error:13']);
  });
});

describe('jogging ($J=)', () => {
  it('moves at once in the Jog state, and 0x85 cancels it with a controlled stop', async () => {
    await unlocked();
    expect(await exchange('$J=G91 X10 F600\n')).toEqual(['ok']);
    await advance(100);
    expect(await status()).toMatchObject({ state: 'Jog', FS: '600,0' });
    expect(await exchange('G0 X1\n')).toEqual(['error:9']);
    await advance(400);
    await exchange([0x85]);
    expect(sim.state.machine).toBe('Jog');
    await advance(21);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 5, y: 0, z: 0 } });
    expect(await exchange('G91 G0 X1\n')).toEqual(['ok']); // the parser continues from where the jog stopped
    await advance(500);
    expect(x()).toBe(6);
  });

  it('refuses a jog beyond the travel with error:15 when soft limits are on', async () => {
    await unlocked({ settings: { 20: 1 } });
    expect(await exchange('$J=X400 F1000\n')).toEqual(['error:15']);
    expect(sim.state.machine).toBe('Idle');
  });
});
