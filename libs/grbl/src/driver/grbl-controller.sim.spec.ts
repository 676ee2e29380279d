// GrblController on the simulator in-process, at wall-clock speed: what real GRBL 1.1h showed and labrun's own
// simulator used to hide — a lost `ok`, work offsets GRBL reports only now and then, and the deceleration after a
// feed hold (issue 11, points 9–11).
import { afterEach, describe, expect, it } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { GrblSimulator, type GrblSimulatorOptions } from '../simulator/index.js';
import { followState } from '../state-feed.js';
import { GrblController } from './grbl-controller.js';
import { GrblDriver } from './grbl-driver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let sim: GrblSimulator | undefined;
let controller: GrblController | undefined;

afterEach(async () => {
  controller?.dispose();
  await controller?.driver.close();
  sim?.close();
  controller = sim = undefined;
});

/** A homed controller on a fresh simulator; quick homing so each test starts in well under a second. */
async function homed(options: GrblSimulatorOptions = {}, driverOptions: ConstructorParameters<typeof GrblDriver>[1] = {}) {
  sim = new GrblSimulator({ ...options, settings: { 24: 2000, 25: 6000, ...options.settings } });
  controller = await GrblController.connect(new GrblDriver(sim.port, { name: 'simulator', ...driverOptions }));
  await controller.home();
  return { sim, controller };
}

describe('GrblController on the simulator', () => {
  it('fails a move whose ok was lost with lost-reply once GRBL sits idle at the target, and the next move gets its own answer', async () => {
    let lost = false;
    const loseAnswer = (line: string) => !lost && /G1X-289F/.test(line) && (lost = true);
    const { sim, controller } = await homed({ loseAnswer }, { lostReplyAfterMs: 500 });
    const move = controller.move({ x: 10, feed: 3000 });
    await expect(move).rejects.toMatchObject({ code: 'lost-reply', message: expect.stringMatching(/^GRBL did not answer "G4 P0" although it has been idle with nothing left to do/) });
    expect(lost).toBe(true);
    expect(sim.state).toMatchObject({ machine: 'Idle', position: { x: -289 } }); // deck x 10: 10 mm off home (-299)
    const next = await controller.move({ x: 20, feed: 3000 });
    expect(next.position.x).toBe(20);
    expect(sim.state.position.x).toBe(-279);
    expect(controller.driver.backlog).toEqual({ queued: 0, inFlight: 0, inFlightBytes: 0 });
  });

  it('moves to the deck position asked for right after a work offset was set, before GRBL reports the new WCO', async () => {
    const { sim, controller } = await homed();
    await controller.driver.send('G10 L2 P1 X10 Y5');
    const moved = await controller.move({ x: 20, y: 30, feed: 6000 });
    expect(sim.state.position).toEqual({ x: -279, y: -269, z: -99 }); // home (-299,-299,-99) + the target
    expect(moved.position).toMatchObject({ x: 20, y: 30 });
  });

  it('publishes where a feed hold stopped the machine: the last state published is the final position, after the deceleration', async () => {
    // 50 mm/s² (GRBL's factory default is 10): 20 mm/s takes 4 mm to stop.
    const { sim, controller } = await homed({ settings: { 120: 50, 121: 50, 122: 50 } });
    const published: HardwareState[] = [];
    const stop = followState(controller, (s) => published.push(s));
    try {
      const move = controller.move({ x: 100, feed: 1200 });
      move.catch(() => undefined);
      await sleep(900);
      const held = await controller.hold();
      await sleep(500); // a couple of report periods after the stop
      const atHold = published.find((s) => s.machine === 'Hold')!;
      const last = published.at(-1)!;
      expect(held.machine).toBe('Hold');
      expect(sim.state.machine).toBe('Hold:0');
      expect(last.position).toEqual(controller.state().position);
      expect(last.machinePosition!.x).toBeCloseTo(sim.state.position.x, 3);
      expect(last.position.x).toBeCloseTo(sim.state.position.x + 299, 3);
      expect(last.position.x - atHold.position.x).toBeGreaterThan(1); // the deceleration the old feed never showed
      const count = published.length;
      await sleep(600);
      expect(published.length).toBe(count); // at rest in Hold: nothing more to publish
      await controller.release();
    } finally {
      stop();
    }
  });
});
