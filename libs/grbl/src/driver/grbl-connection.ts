// Keeps a GRBL controller connected for as long as the hardware service runs: opens the port, and when it goes
// away (USB unplugged, controller powered off, the simulator stopped) tries again every second until it is back.
// While away, the state says `connected: false` and operations fail with code `disconnected`.
import { systemClock, type Clock, type HardwareState } from '@labrun/contracts';
import { ORIGIN, type MotionController, type MoveTarget, type ProbeTarget, type StateListener } from '../motion-controller.js';
import { GrblDisconnected } from './errors.js';
import { GrblController, type GrblControllerOptions } from './grbl-controller.js';
import type { GrblDriver } from './grbl-driver.js';
import { outputAccessory, type OutputMap } from '../outputs.js';

/** The part of a logger this needs (@labrun/service's Logger fits). */
export interface ConnectionLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

export interface GrblConnectionOptions {
  /** Open a fresh driver, e.g. `() => GrblDriver.open('/dev/ttyUSB0', 115200)`. */
  open(): Promise<GrblDriver>;
  /** What is being connected to, for logs and messages: the serial path, or `simulator`. */
  target: string;
  /** Time between attempts to open, in ms. */
  retryMs?: number;
  log?: ConnectionLog;
  clock?: Clock;
  controller?: GrblControllerOptions;
}

const quiet: ConnectionLog = { info() {}, warn() {}, debug() {} };

export class GrblConnection implements MotionController {
  private readonly retryMs: number;
  private readonly log: ConnectionLog;
  private readonly clock: Clock;
  private readonly listeners = new Set<StateListener>();
  private controller: GrblController | null = null;
  private lastState: HardwareState;
  private closing = false;
  private retryTimer: unknown = null;
  private wakeRetry: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private connectedWaiters: Array<() => void> = [];
  private announced = '';
  private readonly outputs: OutputMap;

  constructor(private readonly options: GrblConnectionOptions) {
    this.retryMs = options.retryMs ?? 1000;
    this.log = options.log ?? quiet;
    this.clock = options.clock ?? systemClock;
    this.outputs = options.controller?.outputs ?? new Map();
    this.lastState = {
      connected: false,
      machine: 'Idle',
      position: { ...ORIGIN },
      machinePosition: { ...ORIGIN },
      homed: false,
      door: 'closed',
      alarm: null,
      outputs: Object.fromEntries([...this.outputs.keys()].map((name) => [name, 0])),
      at: new Date(this.clock.now()).toISOString(),
    };
  }

  /** Start connecting, in the background: the service comes up whether or not the controller is there. */
  start(): void {
    this.running ??= this.keepConnected();
  }

  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void> {
    if (this.controller) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Stop reconnecting and close the port. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    await this.controller?.driver.close();
    await this.running;
  }

  home(): Promise<HardwareState> {
    return this.controller ? this.controller.home() : this.offline();
  }

  unlock(): Promise<HardwareState> {
    return this.controller ? this.controller.unlock() : this.offline();
  }

  move(target: MoveTarget): Promise<HardwareState> {
    return this.controller ? this.controller.move(target) : this.offline();
  }

  dwell(seconds: number): Promise<HardwareState> {
    return this.controller ? this.controller.dwell(seconds) : this.offline();
  }

  setOutput(output: string, value: number): Promise<HardwareState> {
    if (this.controller) return this.controller.setOutput(output, value);
    // A name the device does not offer is answered as such, connected or not.
    return Promise.resolve()
      .then(() => outputAccessory(this.outputs, output, value))
      .then(() => this.offline());
  }

  gcode(lines: readonly string[]): Promise<HardwareState> {
    return this.controller ? this.controller.gcode(lines) : this.offline();
  }

  probe(target: ProbeTarget): Promise<HardwareState> {
    return this.controller ? this.controller.probe(target) : this.offline();
  }

  hold(): Promise<HardwareState> {
    return this.controller ? this.controller.hold() : this.offline();
  }

  release(): Promise<HardwareState> {
    return this.controller ? this.controller.release() : this.offline();
  }

  stop(): Promise<HardwareState> {
    return this.controller ? this.controller.stop() : this.offline();
  }

  state(): HardwareState {
    if (this.controller) return this.controller.state();
    return { ...this.lastState, connected: false, at: new Date(this.clock.now()).toISOString() };
  }

  on(_event: 'state', listener: StateListener): void {
    this.listeners.add(listener);
  }

  off(_event: 'state', listener: StateListener): void {
    this.listeners.delete(listener);
  }

  private offline(): Promise<HardwareState> {
    return Promise.reject(new GrblDisconnected(`not connected to GRBL on ${this.options.target}: the port is not there (retrying every ${this.retryMs / 1000} s)`));
  }

  private async keepConnected(): Promise<void> {
    let attempt = 0;
    while (!this.closing) {
      attempt += 1;
      let driver: GrblDriver | null = null;
      try {
        driver = await this.options.open();
        const controller = await GrblController.connect(driver, this.options.controller);
        if (this.closing) {
          controller.dispose();
          await driver.close();
          return;
        }
        const closed = new Promise<Error>((resolve) => driver!.once('close', resolve));
        this.attach(controller, driver);
        attempt = 0;
        const reason = await closed;
        this.detach(controller);
        if (this.closing) return;
        this.log.warn('lost the GRBL controller; reconnecting every second', { target: this.options.target, reason: reason.message });
      } catch (error) {
        await driver?.close();
        if (this.closing) return;
        this.log.warn(`cannot connect to GRBL; retrying in ${this.retryMs / 1000} s`, { target: this.options.target, attempt, error: (error as Error).message });
      }
      await new Promise<void>((resolve) => {
        this.wakeRetry = resolve;
        this.retryTimer = this.clock.setTimeout(resolve, this.retryMs);
      });
      this.retryTimer = null;
      this.wakeRetry = null;
    }
  }

  private attach(controller: GrblController, driver: GrblDriver): void {
    this.controller = controller;
    driver.on('unexpected', (line, reason) => this.log.warn('unexpected line from GRBL', { line, reason }));
    driver.on('alarm', (alarm) => this.log.warn(`GRBL alarm ALARM:${alarm.code}`, { message: alarm.message }));
    driver.on('message', (text) => this.log.info('GRBL message', { text }));
    driver.on('reset', (version) => this.log.info('GRBL restarted', { version }));
    controller.on('state', (state) => this.announce(state));
    this.log.info('connected to GRBL', {
      target: this.options.target,
      version: driver.version ?? undefined,
      machine: controller.state().machine,
      homed: controller.state().homed,
    });
    this.announce(controller.state());
    for (const resolve of this.connectedWaiters.splice(0)) resolve();
  }

  private detach(controller: GrblController): void {
    this.lastState = controller.state();
    this.controller = null;
    this.announce(this.state());
  }

  private announce(state: HardwareState): void {
    if (!this.controller) this.lastState = state;
    const summary = JSON.stringify([state.connected, state.machine, state.homed, state.door, state.alarm?.code ?? null, state.outputs, state.lastProbe?.at ?? null]);
    if (summary === this.announced) return;
    this.announced = summary;
    for (const listener of this.listeners) listener(state);
  }
}
