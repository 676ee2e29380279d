// Probing (G38.2, G38.3) byte for byte, as GRBL 1.1h's mc_probe_cycle() does it: the probe touches a surface at a
// machine Z (`probeSurfaceZ`, the simulator's stand-in for a liquid or a plate), the motion is cancelled and
// decelerates past the contact, `[PRB:…:1]` reports where it touched; touching nothing is ALARM:5 (G38.2) with
// `[PRB:…:0]`, touching already is ALARM:4. Homed first, so machine coordinates are where the surface is.
import { describe, expect, it } from 'vitest';
import { advance, exchange, later, sim, start, status, term, useSimulatorClock } from './session.spec-helpers.js';

useSimulatorClock();

/** Homed (at -299,-299,-99), then at Z -49, 30 mm above a surface at Z -79. */
async function aboveSurface(): Promise<void> {
  await start({ probeSurfaceZ: -79 });
  expect(await exchange('$H\n', 3000)).toEqual(['ok']);
  expect(await exchange('G0 Z-49\n', 2000)).toEqual(['ok']);
}

describe('G38.2 touching the surface', () => {
  it('moves at the feed until the probe touches, decelerates past it, reports [PRB:…:1] with the contact, then ok', async () => {
    await aboveSurface();
    expect(await exchange('G38.2 Z-99 F1000\n', 1000)).toEqual([]); // 16.4 mm down after 1 s: probing, not answered
    expect(await status()).toMatchObject({ state: 'Run', MPos: '-299.000,-299.000,-65.390', FS: '1000,0' });
    // 30 mm at 16.7 mm/s: it touches at 1.82 s and is answered only once it has stopped, 33 ms later.
    expect(await later(820)).toEqual([]);
    expect(await later(40)).toEqual(['[PRB:-299.000,-299.000,-79.000:1]', 'ok']);
    // 16.7 mm/s stops in 0.28 mm at 500 mm/s²: the machine rests past the contact, the probe pin still triggered.
    expect(await status()).toMatchObject({ state: 'Idle', MPos: '-299.000,-299.000,-79.280', FS: '0,0', Pn: 'P' });
    expect(await exchange('$#\n')).toContain('[PRB:-299.000,-299.000,-79.000:1]');
    expect(await exchange('$G\n')).toEqual(['[GC:G38.2 G54 G17 G21 G90 G94 M5 M9 T0 F1000 S0]', 'ok']);
  });

  it('goes on from where the machine stopped, and a reset clears the probe position', async () => {
    await aboveSurface();
    await exchange('G38.2 Z-99 F1000\n', 3000);
    expect(await exchange('G91 G0 Z1\n', 500)).toEqual(['ok']);
    expect(sim.state.position.z).toBe(-78.28); // 1 mm up from where it stopped, not from the contact or the target
    expect(await exchange([0x18])).toEqual(['', "Grbl 1.1h ['$' for help]"]);
    expect(await exchange('$#\n')).toContain('[PRB:0.000,0.000,0.000:0]');
  });

  it('probes slowly to the step: at 100 mm/min the machine stops within a step of the contact', async () => {
    await aboveSurface();
    // Along the line to X -289 Z -99 the probe meets Z -79 three fifths of the way: at X -293.
    expect(await exchange('G38.2 X-289 Z-99 F100\n', 30_000)).toEqual(['[PRB:-293.000,-299.000,-79.000:1]', 'ok']);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: -293, y: -299, z: -79 } });
  });
});

describe('G38.2 touching nothing, or touching already', () => {
  it('reaches the target, raises ALARM:5, and 500 ms later reports the last probe position with :0, then ok', async () => {
    await aboveSurface();
    await exchange('G38.2 Z-99 F1000\n', 3000); // touches at -79
    await exchange('G0 Z-49\n', 2000);
    expect(await exchange('G38.2 Z-69 F1000\n', 1240)).toEqual(['ALARM:5']); // 20 mm in 1.23 s, never touching
    expect(await later(490)).toEqual([]);
    // GRBL does not update the probe position when G38.2 fails: the report repeats the last contact, flagged 0.
    expect(await later(10)).toEqual(['[PRB:-299.000,-299.000,-79.000:0]', 'ok']);
    expect(await status()).toMatchObject({ state: 'Alarm', MPos: '-299.000,-299.000,-69.000' });
    expect(await exchange('G0 Z-49\n')).toEqual(['error:9']);
    expect(await exchange('$X\n')).toEqual(['[MSG:Caution: Unlocked]', 'ok']); // position kept: unlocking is safe
  });

  it('with the probe touching already raises ALARM:4 and moves nothing; no report', async () => {
    await aboveSurface();
    await exchange('G0 Z-89\n', 2000);
    expect((await status()).Pn).toBe('P');
    expect(await exchange('G38.2 Z-99 F100\n', 600)).toEqual(['ALARM:4', 'ok']);
    expect(sim.state).toEqual({ machine: 'Alarm', position: { x: -299, y: -299, z: -89 } });
  });

  it('with no surface at all (the default) never touches', async () => {
    await start();
    await exchange('$H\n', 3000);
    expect(await exchange('G38.2 Z-98 F600\n', 200)).toEqual(['ALARM:5']);
    expect(await later(500)).toEqual(['[PRB:0.000,0.000,0.000:0]', 'ok']);
  });

  it('G38.3 touching nothing raises no alarm and reports where it stopped with :0', async () => {
    await aboveSurface();
    expect(await exchange('G38.3 Z-69 F1000\n', 1300)).toEqual(['[PRB:-299.000,-299.000,-69.000:0]', 'ok']);
    expect(sim.state.machine).toBe('Idle');
  });

  it('a surface set while running takes effect for the next probe', async () => {
    await aboveSurface();
    sim.setProbeSurface(-60);
    expect(await exchange('G38.2 Z-69 F1000\n', 1000)).toEqual(['[PRB:-299.000,-299.000,-60.000:1]', 'ok']);
    sim.setProbeSurface(null);
    expect((await status()).Pn).toBeUndefined();
  });
});

describe('G38 in the parser', () => {
  it('refuses a probe GRBL would refuse, and check mode probes nothing', async () => {
    await start({ probeSurfaceZ: -79, settings: { 22: 0 } });
    const cases: Array<[string, string]> = [
      ['G38.2 Z-10', 'error:22'], // no feed rate yet
      ['G38.2 F100', 'error:26'], // no axis words
      ['G38.2 Z0 F100', 'error:33'], // the target is where it is
      ['G38.4 Z-10 F100', 'error:20'], // probing away is not simulated
      ['G38.6 Z-10 F100', 'error:20'],
      ['G53 G38.2 Z-10 F100', 'error:30'], // G53 goes only with G0 and G1
      ['G38.2 G92 Z-10 F100', 'error:24'],
    ];
    term.send(cases.map(([line]) => `${line}\n`).join(''));
    await advance(0);
    expect(term.answers).toEqual(cases.map(([, answer]) => answer));
    expect(await exchange('$C\nG38.2 Z-10 F100\n', 1000)).toEqual(['[MSG:Enabled]', 'ok', 'ok']); // no motion, no report
    expect(sim.state.position).toEqual({ x: 0, y: 0, z: 0 });
  });
});
