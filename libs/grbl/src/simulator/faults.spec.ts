// Fault injection, byte for byte: a limit switch that trips mid-move, the reset button, a power cut, a firmware
// that hangs, and a line garbled on the cable — what a sender sees of each. Fake timers, baud rate 0.
import { describe, expect, it } from 'vitest';
import { advance, BANNER, exchange, later, sim, start, status, term, UNLOCK_HINT, unlocked, useSimulatorClock } from './session.spec-helpers.js';

useSimulatorClock();

/** Do something to the simulator from outside its serial line, and return what it printed because of it. */
async function inject(fault: () => void): Promise<string[]> {
  const from = term.lines.length;
  fault();
  await advance(0);
  return term.since(from);
}

/** An unlocked machine 2.9 mm into a 10 mm move at 600 mm/min. */
async function moving(options = {}): Promise<void> {
  await unlocked(options);
  expect(await exchange('G1 X10 F600\n')).toEqual(['ok']);
  await advance(300);
}

describe('a limit switch tripping (tripLimit)', () => {
  it('stops the move dead with ALARM:1, asks for a reset, and the switch stays pressed where it tripped', async () => {
    await moving();
    expect(await inject(() => expect(sim.tripLimit('x')).toBe(true))).toEqual(['ALARM:1']);
    expect(sim.state).toEqual({ machine: 'Alarm', position: { x: 2.9, y: 0, z: 0 } });
    expect(await later(500)).toEqual(['[MSG:Reset to continue]']);
    expect(await exchange('?')).toEqual([]);
    expect(await exchange([0x18])).toEqual([...BANNER, '[MSG:Check Limits]', UNLOCK_HINT]);
    expect((await status()).Pn).toBe('X');
    await advance(2000);
    expect(sim.state.position.x).toBe(2.9);
  });

  it('is ignored with hard limits off ($21=0) and while in Alarm', async () => {
    await moving({ settings: { 21: 0 } });
    expect(await inject(() => expect(sim.tripLimit('y')).toBe(false))).toEqual([]);
    await start();
    expect(await inject(() => expect(sim.tripLimit('z')).toBe(false))).toEqual([]);
  });
});

describe('the reset button (pressReset)', () => {
  it('stops a move dead with ALARM:3, then the banner 500 ms later, in Alarm', async () => {
    await moving();
    expect(await inject(() => sim.pressReset())).toEqual(['ALARM:3']);
    expect(await later(500)).toEqual([...BANNER, UNLOCK_HINT]);
    expect(sim.state).toEqual({ machine: 'Alarm', position: { x: 2.9, y: 0, z: 0 } });
  });
});

describe('a power cut (powerCycle)', () => {
  it('restarts with no answer to the line in progress and no alarm, counts from 0,0,0 where the machine stands, locked', async () => {
    await unlocked();
    expect(await exchange('G1 X10 F600\nG4 P0\n')).toEqual(['ok']);
    await advance(300);
    expect(await inject(() => sim.powerCycle())).toEqual([...BANNER, UNLOCK_HINT]);
    expect(sim.state).toEqual({ machine: 'Alarm', position: { x: 0, y: 0, z: 0 } });
    await advance(2000);
    expect(term.lines.filter((line) => line === 'ok')).toHaveLength(2); // $X and G1; never G4 P0
    expect(await exchange('?')).toEqual(['<Alarm|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
  });

  it('keeps EEPROM (settings) and starts Idle without homing; a limit switch still pressed locks it (Check Limits)', async () => {
    await unlocked({ settings: { 22: 0 } });
    await exchange('$110=5000\n');
    expect(await inject(() => sim.powerCycle())).toEqual(BANNER);
    expect(await exchange('$$\n')).toContain('$110=5000.000');
    await exchange('G0 X400\n', 5000); // the + end of the travel (299 as counted) at 83 mm/s: ALARM:1
    expect(term.lines).toContain('ALARM:1');
    await advance(500);
    expect(await inject(() => sim.powerCycle())).toEqual([...BANNER, '[MSG:Check Limits]', UNLOCK_HINT]);
    expect((await status()).Pn).toBe('X');
  });
});

describe('a hung firmware (hang)', () => {
  it('stops dead and answers nothing, not even ?, until the power is cycled', async () => {
    await moving();
    expect(await inject(() => sim.hang())).toEqual([]);
    expect(await exchange('?')).toEqual([]);
    expect(await exchange('G4 P0\n[\x18', 10_000)).toEqual([]);
    expect(sim.state.position.x).toBe(2.9);
    expect(await inject(() => sim.powerCycle())).toEqual([...BANNER, UNLOCK_HINT]);
    expect((await status()).state).toBe('Alarm');
  });
});

describe('a garbled line (failNextLine)', () => {
  it('answers the next line that is not empty with the error asked for and runs none of it; the line after runs', async () => {
    await unlocked();
    sim.failNextLine(20);
    expect(await exchange('\n')).toEqual(['ok']);
    expect(await exchange('G1 X10 F600\n', 2000)).toEqual(['error:20']);
    expect(sim.state.position.x).toBe(0);
    expect(await exchange('G1 X10 F600\n', 2000)).toEqual(['ok']);
    expect(sim.state.position.x).toBe(10);
  });
});
