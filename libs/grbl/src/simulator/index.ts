// A GRBL 1.1h controller, simulated down to the bytes on its serial line: the line protocol with `ok`/`error:N`
// and the 128-byte receive buffer, real-time commands, status reports, a 15-block planner, motion with
// acceleration in simulated real time, feed hold, the safety door, homing, hard and soft limits, alarms and the
// serial line's own speed. Drive it through `port` exactly as you would drive a real controller's serial port,
// or put it on a pseudo-terminal with `exposeOnPty` for programs that open a device path.
//
// The files of this folder follow GRBL's own structure, and each says which part of GRBL it mirrors:
// serial-wire (the cable), serial-rx (receive interrupt and buffer), line-reader and firmware (protocol.c's
// main loop and real-time state machine), gcode, system-commands (`$` commands), planner, motion-profile and
// stepper (motion), homing, settings, report and codes.
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '@labrun/contracts';
import { GrblFirmware } from './firmware.js';
import { SerialWire } from './serial-wire.js';
import { SIMULATOR_DEFAULTS, Settings } from './settings.js';

export { exposeOnPty, type PtyLink } from './pty.js';
export { SIMULATOR_DEFAULTS } from './settings.js';

const AXIS_INDEX = { x: 0, y: 1, z: 2 } as const;

export interface GrblSimulatorOptions {
  /** Time and timers; a fake clock (or vitest's fake timers with the default) makes motion instant to test. */
  clock?: Clock;
  /** Serial line speed in baud, 10 bits per byte each way. Default 115200; 0 delivers every byte at once. */
  baudRate?: number;
  /** `$N` settings to use instead of the simulator's defaults (see SIMULATOR_DEFAULTS), e.g. `{ 22: 0 }`. */
  settings?: Partial<Record<number, number>>;
  /**
   * Fault injection, for testing senders: the answer (`ok` / `error:N`) to a line this returns true for is never
   * sent, as if lost on the serial line. It gets the line as GRBL reads it: upper case, no spaces (`G4P0`).
   */
  loseAnswer?: (line: string) => boolean;
  /**
   * Built with mist coolant (GRBL's ENABLE_M7, off in its default build): M7 switches it on, `A:` shows `M`, and
   * `$I` lists `M`. Without it M7 answers error:20.
   */
  enableM7?: boolean;
  /**
   * What the probe touches (G38.2): a surface at this machine Z, in the coordinates the homed machine counts in
   * (`-20` is 20 mm below the top of the travel). Default null: nothing to touch, so every G38.2 ends in ALARM:5.
   */
  probeSurfaceZ?: number | null;
}

export class GrblSimulator {
  /**
   * The controller's serial line as a Node Duplex stream: bytes written are received by the controller; bytes
   * read are what it sends. Paced at baudRate (10 bits per byte) both ways.
   */
  readonly port: Duplex;
  private readonly wire: SerialWire;
  private readonly firmware: GrblFirmware;

  constructor(options: GrblSimulatorOptions = {}) {
    const clock = options.clock ?? systemClock;
    const factory: Record<number, number> = { ...SIMULATOR_DEFAULTS };
    for (const [n, value] of Object.entries(options.settings ?? {})) if (value !== undefined) factory[Number(n)] = value;
    const settings = new Settings(factory);
    let firmware: GrblFirmware | undefined;
    this.wire = new SerialWire(clock, options.baudRate ?? 115200, (byte) => firmware?.receiveByte(byte));
    this.port = this.wire.port;
    firmware = new GrblFirmware(clock, settings, (text) => this.wire.send(text), options.loseAnswer, { enableM7: options.enableM7 ?? false });
    this.firmware = firmware;
    firmware.setProbeSurface(options.probeSurfaceZ ?? null);
  }

  /**
   * Where the probe touches: a surface at machine Z `z` (as the homed machine counts it), which a probe moving down
   * touches and below which the probe pin reads triggered (`Pn:P`); null for nothing to touch.
   */
  setProbeSurface(z: number | null): void {
    this.firmware.setProbeSurface(z);
  }

  /** The safety door switch: opening it holds the machine like the real-time 0x84 command. */
  setDoor(open: boolean): void {
    this.firmware.setDoor(open);
  }

  /**
   * Fault injection: the limit switch of `axis` trips where the machine stands (an obstacle, a loose wire). With
   * hard limits on ($21=1) GRBL stops dead and raises ALARM:1 (position lost); it ignores the switch with hard
   * limits off, while homing and in Alarm. Returns whether GRBL acted on it.
   */
  tripLimit(axis: 'x' | 'y' | 'z'): boolean {
    return this.firmware.tripLimit(AXIS_INDEX[axis]);
  }

  /** Fault injection: the reset button (GRBL's reset input, as Ctrl-X): stops dead, with ALARM:3 if it was moving. */
  pressReset(): void {
    this.firmware.pressReset();
  }

  /**
   * Fault injection: the power is cut and comes back. GRBL restarts without a word about the line it was working
   * on, counts from 0,0,0 wherever the machine stands, and with homing enabled starts locked in Alarm. Also ends hang().
   */
  powerCycle(): void {
    this.firmware.powerCycle();
  }

  /** Fault injection: the firmware crashes: motion stops dead and GRBL answers nothing, not even `?`, until powerCycle(). */
  hang(): void {
    this.firmware.hang();
  }

  /** Fault injection: the next line GRBL reads is answered `error:<code>` and not executed, as a line garbled on the cable would be. */
  failNextLine(code: number): void {
    this.firmware.failNextLine(code);
  }

  /**
   * For tests and diagnostics: the state as a status report would name it (`Idle`, `Run`, `Hold:1`, `Door:0`,
   * `Alarm`…) and the machine position in mm, on whole motor steps.
   */
  get state(): { machine: string; position: { x: number; y: number; z: number } } {
    const [x, y, z] = this.firmware.position();
    return { machine: this.firmware.reportedState(), position: { x, y, z } };
  }

  /** Stop every timer and end the stream. */
  close(): void {
    this.firmware.close();
    this.wire.close();
  }
}
