// GrblController against a scripted GRBL: the G-code it sends for each operation, when operations settle, and how
// GRBL's reports, alarms and disconnects become the contract's hardware state. The real-GRBL behaviour (motion,
// holds, doors, limits) is tested against the simulator in grbl-simulator.int.spec.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { HardwareState } from '@labrun/contracts';
import { DeckOriginUnknown, GrblController, MachineNotHomed, type GrblControllerOptions } from './grbl-controller.js';
import { GrblDriver } from './grbl-driver.js';
import { ScriptedPort } from './scripted-port.js';
import { watch } from './watch.spec-helpers.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Answers like GRBL, but only as scripted: `?` with `status`, a soft reset with the welcome message, `$$` with
 * `settings`, and every other line with `ok` unless the test holds lines back (`manual`) to answer them itself.
 */
class ScriptedGrbl {
  status = '<Alarm|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>';
  settings = '$13=0\r\n$22=1\r\n$110=500.000\r\n';
  /** What `$I` prints before its ok. */
  buildInfo = '[VER:1.1h.20190830:]\r\n[OPT:V,15,128]\r\n';
  manual: (line: string) => boolean = () => false;
  held: string[] = [];
  lines: string[] = [];
  statusRequests = 0;
  private partial = '';

  constructor(readonly port: ScriptedPort) {
    port.onWrite = (chunk) => {
      for (const byte of chunk) {
        if (byte === 0x3f) {
          this.statusRequests += 1;
          setImmediate(() => port.reply(`${this.status}\r\n`));
        } else if (byte === 0x18) setImmediate(() => port.reply("\r\nGrbl 1.1h ['$' for help]\r\n"));
        else if (byte === 0x21 || byte === 0x7e) continue;
        else if (byte === 0x0a) {
          const line = this.partial;
          this.partial = '';
          this.lines.push(line);
          if (this.manual(line)) this.held.push(line);
          else setImmediate(() => port.reply(line === '$$' ? `${this.settings}ok\r\n` : line === '$I' ? `${this.buildInfo}ok\r\n` : 'ok\r\n'));
        } else this.partial += String.fromCharCode(byte);
      }
    };
  }

  /** Answer the oldest held-back line. */
  answer(response = 'ok'): void {
    this.held.shift();
    this.port.reply(`${response}\r\n`);
  }
}

let controller: GrblController | undefined;
afterEach(async () => {
  controller?.dispose();
  await controller?.driver.close();
  controller = undefined;
});

/** A device profile with the deck origin at machine zero: protocol coordinates are machine coordinates. */
const AT_MACHINE_ZERO: GrblControllerOptions = { deckOrigin: { x: 0, y: 0, z: 0 } };

async function connect(configure: (grbl: ScriptedGrbl) => void = () => undefined, options = AT_MACHINE_ZERO) {
  const port = new ScriptedPort();
  const grbl = new ScriptedGrbl(port);
  configure(grbl);
  controller = await GrblController.connect(new GrblDriver(port, { name: '/dev/ttyTEST' }), options);
  return { grbl, controller, port };
}

describe('GrblController', () => {
  it('says nothing of its travel when homing is disabled ($22=0): machine coordinates start where it was switched on', async () => {
    const { controller } = await connect((g) => {
      g.settings = '$13=0\r\n$22=0\r\n$23=3\r\n$27=1.000\r\n$130=300.000\r\n$131=250.000\r\n$132=100.000\r\n';
      g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>';
    });
    expect(controller.state().travel).toBeUndefined();
  });

  it('connects without touching the machine: a status request, an empty line to resynchronise, $$, $I, and GRBL left locked', async () => {
    const { grbl, controller } = await connect();
    expect(grbl.lines).toEqual(['', '$$', '$I']);
    expect(controller.settings.get(110)).toBe(500);
    expect(controller.state()).toMatchObject({ connected: true, machine: 'Alarm', homed: false, alarm: null, door: 'closed' });
  });

  it('refuses a move before homing, saying to home first, and sends nothing', async () => {
    const { grbl, controller } = await connect();
    const move = controller.move({ x: 1 });
    await expect(move).rejects.toBeInstanceOf(MachineNotHomed);
    await expect(move).rejects.toMatchObject({ code: 'not-homed', message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1)' });
    expect(grbl.lines).toEqual(['', '$$', '$I']);
  });

  it('unlocks with $X: Idle, still not homed, and moves stay refused until $H', async () => {
    const { grbl, controller } = await connect((g) => (g.manual = (line) => line === '$X'));
    const unlock = watch(controller.unlock());
    await tick();
    expect(grbl.held).toEqual(['$X']);
    grbl.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>';
    grbl.port.reply('[MSG:Caution: Unlocked]\r\n');
    grbl.answer();
    await sleep(20);
    expect(unlock.value).toMatchObject({ machine: 'Idle', homed: false, alarm: null });
    const sent = grbl.lines.length;
    await expect(controller.move({ x: 1 })).rejects.toMatchObject({
      code: 'not-homed',
      message: expect.stringMatching(/^GRBL does not know where the machine is, as it has not been homed since it started/),
    });
    expect(grbl.lines).toHaveLength(sent);
  });

  it('answers not-homed, not a bare error:9, when GRBL turns out to be locked in Alarm', async () => {
    // Found unlocked (so homed), but GRBL has restarted locked since its last report: it refuses the G-code.
    const { grbl, controller } = await connect((g) => {
      g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>';
      g.manual = (line) => line.startsWith('G90');
    });
    const move = watch(controller.move({ x: 1 }));
    await sleep(20);
    grbl.answer('error:9');
    await sleep(20);
    expect(move.error).toBeInstanceOf(MachineNotHomed);
    expect(move.error).toMatchObject({ code: 'not-homed', message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1)' });
  });

  it('refuses G-code from the moment GRBL pushes ALARM:N, before a status report says Alarm, and sends nothing', async () => {
    const { grbl, controller, port } = await connect((g) => (g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>'));
    port.reply('ALARM:2\r\n');
    await tick();
    const sent = grbl.lines.length;
    await expect(controller.move({ x: 1 })).rejects.toMatchObject({ code: 'alarm', message: expect.stringMatching(/^GRBL is in alarm since ALARM:2 G-code motion target exceeds machine travel/) });
    expect(grbl.lines).toHaveLength(sent);
  });

  it('fails the pending move with reset when GRBL restarts on its own, and counts the machine as no longer homed', async () => {
    const { grbl, controller, port } = await connect((g) => {
      g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>';
      g.manual = (line) => line === 'G4 P0';
    });
    expect(controller.state().homed).toBe(true);
    const states: HardwareState[] = [];
    controller.on('state', (s) => states.push(s));
    const move = watch(controller.move({ x: 5 }));
    await sleep(20);
    expect(grbl.held).toEqual(['G4 P0']);
    port.reply("\r\nGrbl 1.1h ['$' for help]\r\n"); // a power cut: no ALARM, no answer to G4 P0
    await tick();
    expect(move.error).toMatchObject({ code: 'reset', message: 'GRBL was reset before it answered "G4 P0"' });
    expect(controller.state().homed).toBe(false);
    expect(states.at(-1)).toMatchObject({ homed: false });
    await expect(controller.move({ x: 1 })).rejects.toMatchObject({ code: 'not-homed' });
  });

  it('homes with $H: the machine shows Home until GRBL answers, then homed', async () => {
    const { grbl, controller } = await connect((g) => (g.manual = (line) => line === '$H'));
    const home = watch(controller.home());
    await tick();
    expect(grbl.lines.at(-1)).toBe('$H');
    expect(controller.state().machine).toBe('Home');
    grbl.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>';
    grbl.answer();
    await sleep(20);
    expect(home.value).toMatchObject({ machine: 'Idle', homed: true, position: { x: 0, y: 0, z: 0 } });
  });

  it('moves with one G53 G1 in mm, in machine coordinates whatever WCO GRBL last reported, and resolves only when G4 P0 is answered', async () => {
    const { grbl, controller } = await connect((g) => {
      g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:1.000,-2.000,0.000>';
      g.manual = (line) => line === 'G4 P0';
    });
    expect(controller.state().homed).toBe(true); // found unlocked with homing enabled: it was homed
    const move = watch(controller.move({ x: 10, y: 20.12345, feed: 3000 }));
    await sleep(20);
    expect(grbl.lines.slice(-2)).toEqual(['G90 G21 G53 G1 X10 Y20.123 F3000', 'G4 P0']);
    expect(move.settled).toBe(false);
    grbl.status = '<Idle|MPos:10.000,20.123,0.000|Bf:15,128|FS:0,0>';
    grbl.answer();
    await sleep(20);
    expect(move.value).toMatchObject({ machine: 'Idle', position: { x: 10, y: 20.123, z: 0 } });
    const defaults = watch(controller.move({ z: -1 }));
    await sleep(20);
    expect(grbl.lines.slice(-2)).toEqual(['G90 G21 G53 G1 Z-1 F1000', 'G4 P0']);
    grbl.answer();
    await sleep(20);
    expect(defaults.settled).toBe(true);
  });

  it('moves to the deck origin plus the target, in machine coordinates, and reports position from MPos minus the origin', async () => {
    const { grbl, controller } = await connect((g) => (g.status = '<Idle|MPos:-250.000,-200.000,-50.000|Bf:15,128|FS:0,0|WCO:7.000,7.000,7.000>'), { deckOrigin: { x: -250, y: -200, z: -50.5 } });
    expect(controller.state()).toMatchObject({ position: { x: 0, y: 0, z: 0.5 }, machinePosition: { x: -250, y: -200, z: -50 } });
    grbl.status = '<Idle|MPos:-240.000,-179.500,-45.500|Bf:15,128|FS:0,0>'; // where the move will end
    const move = await controller.move({ x: 10, y: 20.5, z: 5, feed: 3000 });
    // The reported WCO plays no part: labrun applies its own origin, and G53 makes GRBL apply none.
    expect(grbl.lines.slice(-2)).toEqual(['G90 G21 G53 G1 X-240 Y-179.5 Z-45.5 F3000', 'G4 P0']);
    expect(move).toMatchObject({ position: { x: 10, y: 20.5, z: 5 }, machinePosition: { x: -240, y: -179.5, z: -45.5 } });
  });

  it('without a profile puts the deck origin where GRBL homes, from its $23, $27 and $130-$132: home reads 0,0,0', async () => {
    const settings = '$13=0\r\n$22=1\r\n$23=3\r\n$27=1.000\r\n$130=300.000\r\n$131=250.000\r\n$132=100.000\r\n';
    const { grbl, controller } = await connect((g) => {
      g.settings = settings;
      g.status = '<Idle|MPos:-299.000,-249.000,-1.000|Bf:15,128|FS:0,0>';
    }, {});
    // X and Y home towards - (-travel + pull-off), Z towards + (-pull-off).
    expect(controller.state()).toMatchObject({ position: { x: 0, y: 0, z: 0 }, machinePosition: { x: -299, y: -249, z: -1 } });
    // Machine coordinates 0 to -$13x, less that origin: the deck from home on.
    expect(controller.state().travel).toEqual({ min: { x: -1, y: -1, z: -99 }, max: { x: 299, y: 249, z: 1 } });
    await controller.move({ x: 10, y: 20, z: -5, feed: 3000 });
    expect(grbl.lines.slice(-2)).toEqual(['G90 G21 G53 G1 X-289 Y-229 Z-6 F3000', 'G4 P0']);
  });

  it('without a profile puts the deck origin at machine 0,0,0 on GRBL built with HOMING_FORCE_SET_ORIGIN (Z in $I)', async () => {
    const { grbl, controller } = await connect((g) => {
      g.settings = '$13=0\r\n$22=1\r\n$23=3\r\n$27=1.000\r\n$130=300.000\r\n$131=250.000\r\n$132=100.000\r\n';
      g.buildInfo = '[VER:1.1h.20190830:]\r\n[OPT:VZ,15,128]\r\n';
      g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>';
    }, {});
    expect(grbl.lines).toEqual(['', '$$', '$I']);
    // Homed to 0: an axis homed towards - reaches 0 to +travel, one homed towards + 0 to -travel.
    expect(controller.state().travel).toEqual({ min: { x: 0, y: 0, z: -100 }, max: { x: 300, y: 250, z: 0 } });
    await controller.move({ x: 10, feed: 3000 });
    expect(grbl.lines.slice(-2)).toEqual(['G90 G21 G53 G1 X10 F3000', 'G4 P0']);
  });

  it('refuses to move, saying why, when no profile gives the deck origin and GRBL would not print its settings', async () => {
    const { grbl, controller } = await connect((g) => (g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>'), {});
    const sent = grbl.lines.length;
    const move = controller.move({ x: 1 });
    await expect(move).rejects.toBeInstanceOf(DeckOriginUnknown);
    await expect(move).rejects.toMatchObject({ code: 'no-deck-origin', message: expect.stringContaining('set DEVICE_ORIGIN') });
    expect(grbl.lines).toHaveLength(sent);
  });

  it('writes numbers as GRBL reads them: at most 3 decimals, never an exponent; refuses a feed that would round to F0', async () => {
    const { grbl, controller } = await connect((g) => (g.status = '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>'));
    await controller.move({ x: 1e-7, y: 99999.9996, z: -0.0004, feed: 0.0016 });
    expect(grbl.lines.slice(-2)).toEqual(['G90 G21 G53 G1 X0 Y100000 Z0 F0.002', 'G4 P0']);
    await controller.dwell(1e-7);
    expect(grbl.lines.at(-1)).toBe('G4 P0');
    const sent = grbl.lines.length;
    await expect(controller.move({ x: 1, feed: 0.0004 })).rejects.toThrow('a move needs coordinates within ±100000 mm and a feed from 0.001 to 1000000 mm/min');
    await expect(controller.move({ x: 1e21 })).rejects.toBeInstanceOf(RangeError);
    expect(grbl.lines).toHaveLength(sent);
  });

  it('reads positions GRBL reports in inches ($13=1) as mm, and still moves in mm (G21)', async () => {
    const { grbl, controller } = await connect((g) => {
      g.settings = '$13=1\r\n$22=1\r\n';
      g.status = '<Idle|MPos:1.0000,2.0000,0.5000|FS:0,0|WCO:0.1000,0.0000,0.0000>';
    });
    expect(controller.state().position).toEqual({ x: 25.4, y: 50.8, z: 12.7 });
    await controller.move({ x: 50.8, feed: 600 });
    expect(grbl.lines.slice(-2)).toEqual(['G90 G21 G53 G1 X50.8 F600', 'G4 P0']);
  });

  it('dwells with G4 P<seconds>', async () => {
    const { grbl, controller } = await connect((g) => (g.status = '<Idle|MPos:0.000,0.000,0.000>'));
    await controller.dwell(1.5);
    expect(grbl.lines.at(-1)).toBe('G4 P1.5');
  });

  it("rejects the pending move with GRBL's alarm text, and resets GRBL when it asks to (Reset to continue)", async () => {
    const { grbl, controller, port } = await connect((g) => {
      g.status = '<Idle|MPos:0.000,0.000,0.000>';
      g.manual = (line) => line === 'G4 P0';
    });
    const states: HardwareState[] = [];
    controller.on('state', (s) => states.push(s));
    const move = watch(controller.move({ x: 500, feed: 6000 }));
    await sleep(20);
    grbl.status = '<Alarm|MPos:300.000,0.000,0.000>';
    port.reply('ALARM:1\r\n[MSG:Reset to continue]\r\n');
    await sleep(20);
    // No state ever says an alarm while still claiming to run: GRBL is in Alarm from ALARM:N on.
    expect(states.filter((s) => s.alarm !== null).every((s) => s.machine === 'Alarm')).toBe(true);
    expect(move.error).toMatchObject({
      code: 'alarm',
      message: 'ALARM:1 Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended.',
    });
    expect(port.written).toContain('\x18');
    await sleep(250);
    expect(controller.state()).toMatchObject({
      machine: 'Alarm',
      homed: false,
      alarm: { code: 1, message: expect.stringMatching(/^Hard limit triggered/) },
      position: { x: 300 },
    });
    expect(states.at(-1)).toMatchObject({ machine: 'Alarm', alarm: { code: 1 } });
    await expect(controller.dwell(1)).rejects.toMatchObject({ code: 'alarm', message: expect.stringMatching(/^GRBL is in alarm since ALARM:1 Hard limit triggered\./) });
  });

  it('sends a $H asked for right after a limit alarm only once GRBL has had the reset it asks for', async () => {
    const { grbl, controller, port } = await connect((g) => (g.status = '<Idle|MPos:0.000,0.000,0.000>'));
    port.reply('ALARM:1\r\n');
    await tick();
    const home = watch(controller.home());
    await sleep(20);
    expect(grbl.lines).not.toContain('$H'); // GRBL would ignore it, and the reset would then fail it
    port.reply('[MSG:Reset to continue]\r\n');
    await sleep(20);
    expect(port.written).toContain('\x18');
    expect(grbl.lines.at(-1)).toBe('$H');
    await sleep(20);
    expect(home.value).toMatchObject({ homed: true });
  });

  it('shows Alarm, not Home, from the moment ALARM:6 ends a homing cycle, though GRBL answers $H only after its reset', async () => {
    const { grbl, controller, port } = await connect((g) => (g.manual = (line) => line === '$H'));
    const home = watch(controller.home());
    await tick();
    expect(controller.state().machine).toBe('Home');
    port.reply('ALARM:6\r\n');
    await tick();
    expect(controller.state()).toMatchObject({ machine: 'Alarm', alarm: { code: 6 }, homed: false });
    expect(home.error).toMatchObject({ code: 'alarm', message: expect.stringMatching(/^ALARM:6 /) });
    expect(grbl.held).toEqual(['$H']);
  });

  it('reports the door as GRBL names it: Door:1 and Door:2 open, Door:0 and Door:3 closed', async () => {
    const { grbl, controller } = await connect((g) => (g.status = '<Idle|MPos:0.000,0.000,0.000>'));
    for (const [sub, door] of [
      [2, 'open'],
      [1, 'open'],
      [0, 'closed'],
      [3, 'closed'],
    ] as const) {
      grbl.status = `<Door:${sub}|MPos:0.000,0.000,0.000>`;
      await controller.driver.status();
      expect(controller.state(), `Door:${sub}`).toMatchObject({ machine: 'Door', door });
    }
  });

  it('polls ? at 5 Hz when idle and 10 Hz while moving', async () => {
    const { grbl } = await connect((g) => (g.status = '<Idle|MPos:0.000,0.000,0.000>'));
    let from = grbl.statusRequests;
    await sleep(1000);
    expect(grbl.statusRequests - from).toBeGreaterThanOrEqual(4);
    expect(grbl.statusRequests - from).toBeLessThanOrEqual(6);
    grbl.status = '<Run|MPos:1.000,0.000,0.000>';
    await sleep(250);
    from = grbl.statusRequests;
    await sleep(1000);
    expect(grbl.statusRequests - from).toBeGreaterThanOrEqual(9);
    expect(grbl.statusRequests - from).toBeLessThanOrEqual(11);
  });

  it('rejects pending operations with disconnected when the port closes, and says connected: false', async () => {
    const { grbl, controller, port } = await connect((g) => {
      g.status = '<Idle|MPos:0.000,0.000,0.000>';
      g.manual = (line) => line === 'G4 P0';
    });
    const states: HardwareState[] = [];
    controller.on('state', (s) => states.push(s));
    const move = watch(controller.move({ x: 5 }));
    await sleep(20);
    expect(grbl.held).toEqual(['G4 P0']);
    port.hangUp();
    await tick();
    expect(move.error).toMatchObject({ code: 'disconnected', message: 'the connection to GRBL on /dev/ttyTEST closed during the command' });
    expect(controller.state().connected).toBe(false);
    expect(states.at(-1)).toMatchObject({ connected: false });
    await expect(controller.move({ x: 1 })).rejects.toMatchObject({ code: 'disconnected', message: 'not connected to GRBL on /dev/ttyTEST' });
  });
});
