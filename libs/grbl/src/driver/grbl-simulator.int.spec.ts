// The driver and the controller against the GRBL simulator through a real pseudo-terminal pair (socat): the
// same path a USB-attached GRBL takes — serialport opens a tty, bytes cross the kernel, timing is real.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { commandExists, requirement } from '@labrun/testkit';
import { GrblSimulator, exposeOnPty } from '../simulator/index.js';
import { MotionAborted } from '../motion-controller.js';
import { GrblController } from './grbl-controller.js';
import { GrblDriver } from './grbl-driver.js';
import type { StatusReport } from './status-report.js';
import { watch } from './watch.spec-helpers.js';

const hasSocat = requirement(commandExists('socat'), 'socat', 'install it with `apt-get install socat`');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe.skipIf(!hasSocat)('GrblDriver and GrblController on the simulator over a pty', () => {
  let sim: GrblSimulator;
  let pty: { path: string; close(): Promise<void> };
  let driver: GrblDriver;
  let controller: GrblController;

  beforeEach(async () => {
    // Quick homing, so each test starts from a homed machine in well under a second.
    sim = new GrblSimulator({ settings: { 24: 2000, 25: 6000 } });
    pty = await exposeOnPty(sim, path.join(os.tmpdir(), `labrun-grbl-test-${randomUUID().slice(0, 8)}`));
    driver = await GrblDriver.open(pty.path, 115200);
    controller = await GrblController.connect(driver);
  });

  afterEach(async () => {
    controller?.dispose();
    await driver?.close();
    await pty?.close();
    sim?.close();
  });

  it('connects to a controller locked at power-up, leaves it locked, refuses to move, and homes on request', async () => {
    expect(controller.state()).toMatchObject({ connected: true, machine: 'Alarm', homed: false, alarm: null });
    expect(sim.state.machine).toBe('Alarm');
    expect(controller.settings.get(22)).toBe(1);
    await expect(controller.move({ x: 10 })).rejects.toMatchObject({ code: 'not-homed', message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1)' });
    const homed = await controller.home();
    expect(homed).toMatchObject({ machine: 'Idle', homed: true, alarm: null, position: { x: 0, y: 0, z: 0 } });
  });

  it('moves to the target and resolves only when the motion has finished', async () => {
    await controller.home();
    const states: HardwareState[] = [];
    controller.on('state', (s) => states.push(s));
    const started = Date.now();
    const done = await controller.move({ x: 30, y: 10, z: 5, feed: 3000 }); // ~0.65 s
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(done).toMatchObject({ machine: 'Idle', position: { x: 30, y: 10, z: 5 }, machinePosition: { x: -269, y: -289, z: -94 } });
    expect(sim.state.position).toEqual({ x: -269, y: -289, z: -94 }); // the deck origin is home: -299,-299,-99
    expect(states.map((s) => s.machine)).toEqual(['Run', 'Idle']);
  });

  it('holds mid-move short of the target, stays put while held, and reaches the target after release', async () => {
    await controller.home();
    const move = watch(controller.move({ x: 50, feed: 3000 })); // 1 s
    await until(() => controller.state().position.x > 10, 5000, 'x > 10');
    const held = await controller.hold();
    expect(held.machine).toBe('Hold');
    expect(held.position.x).toBeGreaterThan(10);
    expect(held.position.x).toBeLessThan(50);
    await sleep(600);
    expect(controller.state()).toMatchObject({ machine: 'Hold', position: held.position });
    expect(move.settled).toBe(false);
    const released = await controller.release();
    expect(released.machine).toBe('Run');
    await until(() => move.settled, 5000, 'the move');
    expect(move.value).toMatchObject({ machine: 'Idle', position: { x: 50, y: 0, z: 0 } });
  });

  it('stops mid-move keeping the position, with no alarm; the pending move rejects as aborted', async () => {
    await controller.home();
    const move = watch(controller.move({ x: 60, feed: 3000 }));
    const next = watch(controller.move({ x: 0 }));
    await until(() => controller.state().position.x > 10, 5000, 'x > 10');
    const stopped = await controller.stop();
    expect(stopped).toMatchObject({ machine: 'Idle', alarm: null, homed: true });
    expect(stopped.position.x).toBeGreaterThan(10);
    expect(stopped.position.x).toBeLessThan(60);
    await until(() => move.settled && next.settled);
    expect(move.error).toBeInstanceOf(MotionAborted);
    expect(next.error).toBeInstanceOf(MotionAborted);
    await sleep(300);
    expect((await driver.status()).mpos?.x).toBe(stopped.machinePosition!.x);
    expect(stopped.position.x).toBeCloseTo(stopped.machinePosition!.x + 299, 6);
    expect(sim.state.machine).toBe('Idle');
    // The machine is still homed and moves on.
    expect(await controller.move({ x: 5, feed: 6000 })).toMatchObject({ position: { x: 5 } });
  });

  it('follows the door: opening holds (Door, open), closing leaves it held (Door, closed) until release', async () => {
    await controller.home();
    const reports: StatusReport[] = [];
    driver.on('status', (r) => reports.push(r));
    const move = watch(controller.move({ x: 50, feed: 3000 }));
    await until(() => controller.state().position.x > 10, 5000, 'x > 10');
    sim.setDoor(true);
    await until(() => controller.state().door === 'open', 2000, 'door open');
    expect(controller.state().machine).toBe('Door');
    await until(() => reports.at(-1)?.subState === 1, 3000, 'Door:1');
    const x = controller.state().position.x;
    expect(x).toBeLessThan(50);
    expect((await controller.release()).machine).toBe('Door'); // ignored while open
    await sleep(300);
    expect(controller.state().position.x).toBe(x);
    sim.setDoor(false);
    await until(() => controller.state().door === 'closed', 2000, 'door closed');
    await sleep(300);
    expect(controller.state()).toMatchObject({ machine: 'Door', door: 'closed', position: { x } });
    expect(reports.at(-1)?.subState).toBe(0);
    expect(move.settled).toBe(false);
    await controller.release();
    await until(() => move.settled, 5000, 'the move');
    expect(move.value).toMatchObject({ machine: 'Idle', position: { x: 50 } });
  });

  it("fails a move past the travel with GRBL's hard-limit alarm, and homes again", async () => {
    await controller.home();
    const move = controller.move({ x: 400, feed: 12000 });
    await expect(move).rejects.toMatchObject({
      code: 'alarm',
      message: 'ALARM:1 Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended.',
    });
    await until(() => controller.state().alarm !== null && driver.version !== null, 3000, 'the alarm state');
    await sleep(300);
    expect(controller.state()).toMatchObject({ machine: 'Alarm', homed: false, alarm: { code: 1 } });
    await expect(controller.move({ x: 1 })).rejects.toMatchObject({ code: 'alarm', message: expect.stringMatching(/^GRBL is in alarm since ALARM:1 Hard limit triggered\./) });
    expect(await controller.home()).toMatchObject({ machine: 'Idle', homed: true, alarm: null });
  }, 20_000); // homing back from the end of travel takes ~3 s

  it('rejects the pending move with disconnected when the pty goes away, and says connected: false', async () => {
    await controller.home();
    const states: HardwareState[] = [];
    controller.on('state', (s) => states.push(s));
    const move = watch(controller.move({ x: 80, feed: 3000 }));
    await until(() => controller.state().position.x > 5, 5000, 'x > 5');
    await pty.close();
    await until(() => move.settled, 5000, 'the move to fail');
    expect(move.error).toMatchObject({ code: 'disconnected' });
    expect(controller.state().connected).toBe(false);
    expect(states.at(-1)).toMatchObject({ connected: false });
  });
});

describe('GrblDriver on the simulator in-process', () => {
  it("streams by character counting within GRBL's 128-byte buffer, as the simulator's Bf field confirms", async () => {
    const sim = new GrblSimulator({ baudRate: 0, settings: { 110: 60000, 111: 60000, 120: 50000, 121: 50000 } });
    const driver = new GrblDriver(sim.port, { name: 'simulator' });
    try {
      const rxFree: number[] = [];
      driver.on('status', (r) => r.buffer && rxFree.push(r.buffer.rxBytesFree));
      await driver.status();
      await driver.unlock();
      const program = Array.from({ length: 300 }, (_, i) => `G1 X${(i * 0.1).toFixed(3)} Y${(i % 2) * 0.05} F30000`);
      let maxInFlight = 0;
      const poll = setInterval(() => driver.realtime('statusReport'), 5);
      const counting = driver.stream(program);
      while (driver.backlog.queued + driver.backlog.inFlight > 0) {
        maxInFlight = Math.max(maxInFlight, driver.backlog.inFlightBytes);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await counting;
      clearInterval(poll);
      expect(maxInFlight).toBeLessThanOrEqual(128);
      expect(maxInFlight).toBeGreaterThan(100);
      expect(Math.min(...rxFree)).toBeGreaterThanOrEqual(0);
      await driver.send('G4 P0');
      expect((await driver.settings()).get(110)).toBe(60000);
    } finally {
      await driver.close();
      sim.close();
    }
  });
});
