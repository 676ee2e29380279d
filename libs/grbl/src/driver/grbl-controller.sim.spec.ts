// GrblController on the simulator in-process, at wall-clock speed: what real GRBL 1.1h showed and labrun's own
// simulator used to hide — a lost `ok`, work offsets GRBL reports only now and then, and the deceleration after a
// feed hold (issue 11, points 9–11) — leaving an alarm with `$X`, and switching outputs (pump, valve), byte for
// byte on the serial line.
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { GrblSimulator, type GrblSimulatorOptions } from '../simulator/index.js';
import { followState } from '../state-feed.js';
import { GrblController, type GrblControllerOptions } from './grbl-controller.js';
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

/** The simulator's serial line with both directions recorded byte for byte, real-time bytes included. */
function tapped(port: Duplex) {
  const toGrbl: Buffer[] = [];
  const fromGrbl: Buffer[] = [];
  const tap = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      toGrbl.push(chunk);
      port.write(chunk, callback);
    },
  });
  port.on('data', (chunk: Buffer) => {
    fromGrbl.push(chunk);
    tap.push(chunk);
  });
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('latin1');
  return {
    tap,
    /** What was written and received from now on, without `?` and the status reports that answer it. */
    mark() {
      const [sent, received] = [toGrbl.length, fromGrbl.length];
      // A mark may fall inside a status report: its head before the mark, or its tail after the last look, go too.
      const answers = (chunks: Buffer[]) =>
        text(chunks)
          .replace(/<[^>]*>\r\n/g, '')
          .replace(/^[^<>\r\n]*>\r\n/, '')
          .replace(/<[^\r\n]*\r?$/, ''); // a report still arriving: its head, up to its \r
      return () => ({ sent: text(toGrbl.slice(sent)).replaceAll('?', ''), received: answers(fromGrbl.slice(received)) });
    },
  };
}

/** A homed controller on a fresh simulator; quick homing so each test starts in well under a second. */
async function homed(options: GrblSimulatorOptions = {}, driverOptions: ConstructorParameters<typeof GrblDriver>[1] = {}, controllerOptions: GrblControllerOptions = {}) {
  sim = new GrblSimulator({ ...options, settings: { 24: 2000, 25: 6000, ...options.settings } });
  controller = await GrblController.connect(new GrblDriver(sim.port, { name: 'simulator', ...driverOptions }), controllerOptions);
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

describe('GrblController unlocking the simulator ($X)', () => {
  it('leaves the start-up lock with $X byte for byte, says Idle but not homed, and still refuses to move without sending', async () => {
    sim = new GrblSimulator({ settings: { 24: 2000, 25: 6000 } });
    const line = tapped(sim.port);
    controller = await GrblController.connect(new GrblDriver(line.tap, { name: 'simulator' }));
    expect(controller.state()).toMatchObject({ machine: 'Alarm', homed: false, alarm: null });
    const unlocking = line.mark();
    const unlocked = await controller.unlock();
    expect(unlocking()).toEqual({ sent: '$X\n', received: '[MSG:Caution: Unlocked]\r\nok\r\n' });
    expect(unlocked).toMatchObject({ machine: 'Idle', homed: false, alarm: null });
    expect(sim.state.machine).toBe('Idle');
    const moving = line.mark();
    await expect(controller.move({ x: 10 })).rejects.toMatchObject({ code: 'not-homed', message: expect.stringMatching(/^GRBL does not know where the machine is/) });
    await sleep(300);
    expect(moving()).toEqual({ sent: '', received: '' });
    expect(sim.state.position).toEqual({ x: 0, y: 0, z: 0 }); // where GRBL started counting: unmoved
    expect(await controller.home()).toMatchObject({ machine: 'Idle', homed: true });
  });

  it('stays homed when $X leaves an alarm that kept the position (ALARM:2, soft limit), and moves on', async () => {
    const { sim, controller } = await homed({ settings: { 20: 1 } }); // soft limits on
    await expect(controller.move({ x: 400, feed: 6000 })).rejects.toMatchObject({ code: 'alarm', message: expect.stringMatching(/^ALARM:2 G-code motion target exceeds machine travel/) });
    await sleep(800); // GRBL's 500 ms after the alarm, [MSG:Reset to continue], and the reset the controller then sends
    expect(controller.state()).toMatchObject({ machine: 'Alarm', homed: true, alarm: { code: 2 } });
    expect(await controller.unlock()).toMatchObject({ machine: 'Idle', homed: true, alarm: null });
    expect(await controller.move({ x: 10, feed: 6000 })).toMatchObject({ machine: 'Idle', position: { x: 10 } });
    expect(sim.state.position.x).toBe(-289);
  });

  it('stays not homed when $X leaves an alarm that lost the position (ALARM:1, hard limit)', async () => {
    const { controller } = await homed();
    await expect(controller.move({ x: 400, feed: 12000 })).rejects.toMatchObject({ code: 'alarm', message: expect.stringMatching(/^ALARM:1 Hard limit triggered/) });
    await sleep(800);
    expect(await controller.unlock()).toMatchObject({ machine: 'Idle', homed: false, alarm: null });
    await expect(controller.move({ x: 10 })).rejects.toMatchObject({ code: 'not-homed' });
  });
});

describe('GrblController switching outputs on the simulator', () => {
  const outputs = new Map([
    ['pump', 'spindle'],
    ['valve', 'flood'],
    ['mister', 'mist'],
  ] as const);

  /** A homed controller with the three outputs, on a simulator whose serial line is recorded. */
  async function wired(options: GrblSimulatorOptions = {}) {
    sim = new GrblSimulator({ ...options, settings: { 24: 2000, 25: 6000, ...options.settings } });
    const line = tapped(sim.port);
    controller = await GrblController.connect(new GrblDriver(line.tap, { name: 'simulator' }), { outputs });
    await controller.home();
    return { sim, controller, line };
  }

  /** What went over the wire since `mark`, the answers as lines (a mark may fall between a report and its line end). */
  const exchanged = (since: () => { sent: string; received: string }) => {
    const { sent, received } = since();
    return { sent, received: received.split(/[\r\n]+/).filter(Boolean) };
  };

  it('sends M3 S<value × $30> and M5 for a spindle output, M8 and M9 for a flood one, and reads the levels back from the status report', async () => {
    const { controller, line } = await wired();
    expect(controller.state().outputs).toEqual({ pump: 0, valve: 0, mister: 0 });
    let wire = line.mark();
    expect((await controller.setOutput('pump', 0.5)).outputs).toEqual({ pump: 0.5, valve: 0, mister: 0 });
    expect(exchanged(wire)).toEqual({ sent: 'M3 S500\n', received: ['ok'] });
    wire = line.mark();
    expect((await controller.setOutput('valve', 1)).outputs).toEqual({ pump: 0.5, valve: 1, mister: 0 });
    expect(exchanged(wire)).toEqual({ sent: 'M8\n', received: ['ok'] });
    wire = line.mark();
    expect((await controller.setOutput('pump', 1 / 3)).outputs).toEqual({ pump: 0.333, valve: 1, mister: 0 }); // FS carries whole rpm
    expect(wire().sent).toBe('M3 S333.333\n');
    wire = line.mark();
    await controller.setOutput('pump', 0);
    expect((await controller.setOutput('valve', 0)).outputs).toEqual({ pump: 0, valve: 0, mister: 0 });
    expect(exchanged(wire)).toEqual({ sent: 'M5\nM9\n', received: ['ok', 'ok'] });
  });

  it('answers an output it does not offer with unknown-output, and a level a valve cannot take with a RangeError, sending nothing', async () => {
    const { controller, line } = await wired();
    const wire = line.mark();
    await expect(controller.setOutput('heater', 1)).rejects.toMatchObject({ code: 'unknown-output', message: 'there is no output "heater" on this device: its outputs are pump, valve, mister' });
    await expect(controller.setOutput('valve', 0.5)).rejects.toThrow(new RangeError("valve is an on/off output (GRBL's flood coolant): its value is 0 or 1, not 0.5"));
    await sleep(300);
    expect(exchanged(wire)).toEqual({ sent: '', received: [] });
  });

  it('keeps mist on when it switches flood off (M9 switches both), on a GRBL built with M7', async () => {
    const { controller, line } = await wired({ enableM7: true });
    await controller.setOutput('mister', 1);
    await controller.setOutput('valve', 1);
    const wire = line.mark();
    expect((await controller.setOutput('valve', 0)).outputs).toEqual({ pump: 0, valve: 0, mister: 1 });
    expect(exchanged(wire)).toEqual({ sent: 'M9\nM7\n', received: ['ok', 'ok'] });
  });

  it('says what to do when GRBL has no mist coolant (built without M7)', async () => {
    const { controller } = await wired();
    await expect(controller.setOutput('mister', 1)).rejects.toMatchObject({
      code: 'grbl-error',
      message: expect.stringMatching(/^GRBL refused "M7": error:20 .*This GRBL was built without mist coolant \(ENABLE_M7 in its config\.h\): wire mister to flood, or build GRBL with ENABLE_M7$/),
    });
  });

  it('reads the outputs off while the door has switched them off, and on again once GRBL restores them on resume', async () => {
    const { sim, controller } = await wired();
    await controller.setOutput('pump', 0.5);
    await controller.setOutput('valve', 1);
    const published: HardwareState[] = [];
    const stop = followState(controller, (s) => published.push(s));
    try {
      sim.setDoor(true);
      await sleep(600);
      expect(controller.state()).toMatchObject({ machine: 'Door', door: 'open', outputs: { pump: 0, valve: 0 } });
      expect(published.at(-1)!.outputs).toEqual({ pump: 0, valve: 0, mister: 0 }); // announced, so hw/<dev>/state shows it
      sim.setDoor(false);
      await sleep(300);
      await controller.release(); // cycle start: Door:3 brings spindle and coolant back, 4 s + 1 s, then resumes
      await sleep(600);
      expect(controller.state().outputs).toEqual({ pump: 0.5, valve: 1, mister: 0 });
      expect(published.at(-1)!.outputs).toEqual({ pump: 0.5, valve: 1, mister: 0 });
    } finally {
      stop();
    }
  });

  it('in an alarm, where GRBL has switched every output off, switches one off without sending and refuses to switch one on', async () => {
    const { controller, line } = await wired();
    await controller.setOutput('pump', 0.5);
    await expect(controller.move({ x: 400, feed: 12000 })).rejects.toMatchObject({ code: 'alarm' });
    await sleep(800);
    expect(controller.state()).toMatchObject({ machine: 'Alarm', outputs: { pump: 0, valve: 0, mister: 0 } });
    const wire = line.mark();
    expect((await controller.setOutput('pump', 0)).outputs).toEqual({ pump: 0, valve: 0, mister: 0 });
    await expect(controller.setOutput('pump', 1)).rejects.toMatchObject({ code: 'alarm' });
    expect(wire().sent).toBe('');
  });
});

describe('GrblController: G-code blocks and probing on the simulator', () => {
  /** Homed with the serial line recorded, and a probe surface at machine Z -79: deck Z 20. */
  async function tappedHomed(options: GrblSimulatorOptions = {}) {
    sim = new GrblSimulator({ probeSurfaceZ: -79, ...options, settings: { 24: 2000, 25: 6000, ...options.settings } });
    const line = tapped(sim.port);
    controller = await GrblController.connect(new GrblDriver(line.tap, { name: 'simulator' }));
    await controller.home();
    return { sim, controller, line };
  }

  it('sends a block a line at a time between G80 G90 G21 and G4 P0, and answers once its motion is done', async () => {
    const { sim, controller, line } = await tappedHomed();
    const block = line.mark();
    const done = await controller.gcode(['G91', 'G1 Z10 F3000 (up)', 'g1 x5', 'G90']);
    expect(block()).toEqual({ sent: 'G80 G90 G21\nG91\nG1 Z10 F3000 (up)\ng1 x5\nG90\nG4 P0\n', received: 'ok\r\n'.repeat(6) });
    expect(done).toMatchObject({ machine: 'Idle', position: { x: 5, y: 0, z: 10 } });
    expect(sim.state.position).toEqual({ x: -294, y: -299, z: -89 });
  });

  it('fails a block at the line GRBL refuses, naming it, once the lines before it have run; no line after it is sent', async () => {
    const { sim, controller, line } = await tappedHomed();
    const block = line.mark();
    const failed = controller.gcode(['G91', 'G1 Z5 F3000', 'G2 X1', 'G1 Z5']);
    await expect(failed).rejects.toMatchObject({
      code: 'grbl-error',
      lineNumber: 3,
      message: 'GRBL refused line 3 of the G-code block, "G2 X1": error:20 Unsupported or invalid g-code command found in block.',
    });
    // Answered once the lines before it have run (G4 P0): the one Z5 before the refused line, not the one after it.
    expect(sim.state.position.z).toBe(-94);
    await sleep(300);
    expect(block()).toEqual({ sent: 'G80 G90 G21\nG91\nG1 Z5 F3000\nG2 X1\nG4 P0\n', received: 'ok\r\nok\r\nok\r\nerror:20\r\nok\r\n' });
  });

  it('probes relative to where the machine rests, keeps where it touched as lastProbe, and rests past it', async () => {
    const { sim, controller, line } = await tappedHomed();
    await controller.move({ z: 50, feed: 6000 });
    const probing = line.mark();
    const probed = await controller.probe({ z: 0, feed: 3000 });
    expect(probing()).toEqual({ sent: 'G4 P0\nG91 G21 G38.2 Z-50 F3000\nG90\n', received: 'ok\r\n[PRB:-299.000,-299.000,-79.000:1]\r\nok\r\nok\r\n' });
    expect(probed.lastProbe).toEqual({ position: { x: 0, y: 0, z: 20 }, machinePosition: { x: -299, y: -299, z: -79 }, at: expect.any(String) });
    // 50 mm/s stops in 2.5 mm at 500 mm/s²: the machine rests below the surface, where the probe touched.
    expect(probed.position.z).toBeLessThan(18);
    expect(sim.state.position.z).toBeCloseTo(probed.machinePosition!.z, 2);
    expect(controller.state().lastProbe).toEqual(probed.lastProbe);
  });

  it('fails a probe that touched nothing with probe-no-contact; GRBL is in alarm, unlock keeps it homed at once', async () => {
    const { controller } = await tappedHomed();
    await controller.move({ z: 50, feed: 6000 });
    await expect(controller.probe({ z: 30, feed: 3000 })).rejects.toMatchObject({
      code: 'probe-no-contact',
      message: 'the probe touched nothing on its way to Z 30: ALARM:5 Probe fail. Probe did not contact the workpiece within the programmed travel for G38.2 and G38.4.',
    });
    expect(controller.state()).toMatchObject({ machine: 'Alarm', homed: true, alarm: { code: 5 } });
    expect(controller.state().lastProbe).toBeUndefined();
    const started = Date.now();
    expect(await controller.unlock()).toMatchObject({ machine: 'Idle', homed: true, alarm: null });
    expect(Date.now() - started).toBeLessThan(1000); // GRBL does not restart after a probe alarm: nothing to wait for
    expect(await controller.move({ z: 40, feed: 6000 })).toMatchObject({ position: { z: 40 } });
  });

  it('fails a probe that is touching before it moves with probe-already-in-contact (ALARM:4)', async () => {
    const { sim, controller } = await tappedHomed();
    await controller.move({ z: 10, feed: 6000 });
    await expect(controller.probe({ z: 0, feed: 600 })).rejects.toMatchObject({
      code: 'probe-already-in-contact',
      message: expect.stringMatching(/^the probe was touching something before it moved toward Z 0: ALARM:4/),
    });
    expect(sim.state.position.z).toBe(-89);
  });

  it('holds operations called during a probe back until it is done: nothing moves the machine it measured', async () => {
    const { controller, line } = await tappedHomed();
    await controller.move({ z: 50, feed: 6000 });
    const order = line.mark();
    const probe = controller.probe({ z: 0, feed: 3000 });
    const move = controller.move({ x: 10, feed: 6000 });
    await probe;
    expect(await move).toMatchObject({ position: { x: 10 } });
    expect(order().sent).toBe('G4 P0\nG91 G21 G38.2 Z-50 F3000\nG90\nG90 G21 G53 G1 X-289 F6000\nG4 P0\n');
  });

  it('moves to labware at a travel height: up to it, across, then down, each in machine coordinates, answered once all are done', async () => {
    const { sim, controller, line } = await tappedHomed();
    await controller.move({ z: 10, feed: 6000 });
    const travel = line.mark();
    const done = await controller.move({ x: 28, y: 29.5, z: 5, travelZ: 40, feed: 6000 });
    expect(travel()).toEqual({ sent: 'G90 G21 G53 G1 Z-59 F6000\nG90 G21 G53 G1 X-271 Y-269.5 F6000\nG90 G21 G53 G1 Z-94 F6000\nG4 P0\n', received: 'ok\r\n'.repeat(4) });
    expect(done).toMatchObject({ machine: 'Idle', position: { x: 28, y: 29.5, z: 5 } });
    expect(sim.state.position).toMatchObject({ x: -271, y: -269.5, z: -94 });
  });
});
