// A MotionController on a GRBL 1.1 controller, through the serial driver: the hardware service's operations as
// G-code and real-time commands, and GRBL's status reports as the contract's hardware state. One instance per
// connection; GrblConnection reconnects. The choices it makes are written down in driver/README.md.
import { MOVE_LIMITS, systemClock, type Clock, type HardwareState, type Position, type Travel } from '@labrun/contracts';
import { MachineAlarm, MotionAborted, ORIGIN, ProbeFailed, type MotionController, type MoveTarget, type ProbeTarget, type StateListener } from '../motion-controller.js';
import { alarmLosesPosition, type GrblCode } from './codes.js';
import { GcodeLineRefused, GrblDisconnected, GrblError, GrblReset, GrblTimeout, StreamCancelled } from './errors.js';
import type { GrblDriver } from './grbl-driver.js';
import type { StatusReport } from './status-report.js';
import { coolantAfter, outputAccessory, outputLevels, outputLines, type Coolant, type OutputMap } from '../outputs.js';

export interface GrblControllerOptions {
  /** The clock that stamps `at`. */
  clock?: Clock;
  /** Feed for a move that gives none, mm/min. */
  defaultFeed?: number;
  /** Status polling (`?`) while the machine moves or has work queued, and otherwise. GRBL advises 5 Hz, 10 Hz at most. */
  pollMs?: { busy: number; idle: number };
  /** How long a feed hold may take to bring the machine to a stop. */
  holdTimeoutMs?: number;
  /**
   * The device profile: the machine position (mm) of the deck origin, the point protocols call 0,0,0. Protocol
   * coordinates are machine coordinates minus it. Default: where GRBL's homing cycle leaves the machine, from
   * its settings ($23, $27, $130–$132), so that home reads 0,0,0.
   */
  deckOrigin?: Position | undefined;
  /** The outputs the device offers by lab name, and the GRBL accessory each is wired to (HARDWARE_OUTPUTS). */
  outputs?: OutputMap;
}

/**
 * Where GRBL 1.1 as shipped (without HOMING_FORCE_SET_ORIGIN) sets the machine position when homing ends
 * (limits_go_home()): machine zero is the + end of an axis; one homed towards - ($23 bit set) stands at
 * -max travel ($13x) + pull-off ($27), one homed towards + at -pull-off. Undefined if a setting is missing.
 * A build with HOMING_FORCE_SET_ORIGIN (`Z` in `$I`'s `[OPT:…]`) homes to 0,0,0.
 */
export function homedMachinePosition(settings: ReadonlyMap<number, number>, forcesOrigin = false): Position | undefined {
  if (forcesOrigin) return { x: 0, y: 0, z: 0 };
  const direction = settings.get(23);
  const pullOff = settings.get(27);
  if (direction === undefined || pullOff === undefined) return undefined;
  const axis = (bit: number) => {
    const travel = settings.get(130 + bit);
    if (travel === undefined) return undefined;
    return round3((direction >> bit) & 1 ? -travel + pullOff : -pullOff);
  };
  const [x, y, z] = [axis(0), axis(1), axis(2)];
  return x === undefined || y === undefined || z === undefined ? undefined : { x, y, z };
}

/**
 * The machine coordinates GRBL 1.1 lets a homed machine reach (soft limits' check, limits_soft_check()): 0 to
 * -max travel ($13x) on each axis; on a build with HOMING_FORCE_SET_ORIGIN, an axis homed towards - ($23 bit set)
 * reaches 0 to +max travel instead. Undefined if a setting is missing.
 */
export function machineTravel(settings: ReadonlyMap<number, number>, forcesOrigin = false): Travel | undefined {
  const direction = settings.get(23) ?? 0;
  const ranges = AXES.map((_, bit) => {
    const travel = settings.get(130 + bit);
    if (travel === undefined || !(travel > 0)) return undefined;
    return forcesOrigin && (direction >> bit) & 1 ? [0, round3(travel)] : [round3(-travel), 0];
  });
  if (ranges.some((r) => r === undefined)) return undefined;
  const [x, y, z] = ranges as [number, number][];
  return { min: { x: x![0]!, y: y![0]!, z: z![0]! }, max: { x: x![1]!, y: y![1]!, z: z![1]! } };
}

/** A machine-coordinate travel as deck coordinates: less the deck origin. */
export const deckTravel = (machine: Travel, origin: Position): Travel => ({
  min: { x: round3(machine.min.x - origin.x), y: round3(machine.min.y - origin.y), z: round3(machine.min.z - origin.z) },
  max: { x: round3(machine.max.x - origin.x), y: round3(machine.max.y - origin.y), z: round3(machine.max.z - origin.z) },
});

/** A move refused because the controller does not know where the deck origin is (GRBL's settings were unreadable). */
export class DeckOriginUnknown extends Error {
  readonly code = 'no-deck-origin';
  constructor(detail: string) {
    super(`cannot move: the deck origin is unknown (${detail}); set DEVICE_ORIGIN, or reconnect while the machine is idle`);
    this.name = 'DeckOriginUnknown';
  }
}

/**
 * A move refused because GRBL, with homing enabled, does not know where the machine is: it has not been homed since
 * it started, or since an alarm lost the position. Nothing was sent; the machine has not moved.
 */
export class MachineNotHomed extends Error {
  readonly code = 'not-homed';
  constructor(message: string) {
    super(message);
    this.name = 'MachineNotHomed';
  }
}

/** GRBL's power-up lock (HOMING_INIT_LOCK): in Alarm with no ALARM:N, until `$H` (or `$X`). */
const LOCKED_AT_START = 'GRBL is in Alarm after start-up (homing is enabled, $22=1)';
const NEVER_HOMED = 'GRBL does not know where the machine is, as it has not been homed since it started or since an alarm lost the position (unlocking with $X does not find it again)';
const round3 = (v: number) => Math.round(v * 1000) / 1000 || 0; // `|| 0`: no -0 in JSON
/**
 * A number as GRBL's read_float takes it: plain decimal with at most 3 decimals, never an exponent (String(1e21)
 * is `1e+21`, error:20; String(1e-7) is `1e-7`). Callers keep values within MOVE_LIMITS, where toFixed is exact.
 */
export const gcodeNumber = (v: number) =>
  round3(v)
    .toFixed(3)
    .replace(/\.?0+$/, '');

interface Operation {
  reject(error: Error): void;
}

/**
 * What a G-code block is sent between: before it, motion mode cancelled (a bare axis word is refused, error:31,
 * rather than repeating whatever motion the last command left modal, a probe's G38.2 included), absolute
 * millimetres; after it, G4 P0, answered once the planner is empty: the block's motion is done.
 */
const BLOCK_START = 'G80 G90 G21';
const BLOCK_END = 'G4 P0';

const AXES = ['x', 'y', 'z'] as const;
/** `X 10, Z 20`: a target as people read it. */
const describeTarget = (target: Partial<Record<'x' | 'y' | 'z', number | undefined>>) =>
  AXES.filter((axis) => target[axis] !== undefined)
    .map((axis) => `${axis.toUpperCase()} ${target[axis]}`)
    .join(', ');

export class GrblController implements MotionController {
  /**
   * Take over a driver: find GRBL answering, resynchronise its line buffer, read its settings, and start polling.
   * The machine is left as it is: a controller locked in Alarm at power-up stays locked until `home()`.
   */
  static async connect(driver: GrblDriver, options: GrblControllerOptions = {}): Promise<GrblController> {
    const controller = new GrblController(driver, options);
    try {
      await controller.handshake();
    } catch (error) {
      controller.dispose();
      throw error;
    }
    controller.poll();
    return controller;
  }

  private readonly clock: Clock;
  private readonly defaultFeed: number;
  private readonly pollMs: { busy: number; idle: number };
  private readonly holdTimeoutMs: number;
  private readonly listeners = new Set<StateListener>();
  private readonly operations = new Set<Operation>();

  private grblSettings: ReadonlyMap<number, number> = new Map();
  private report: StatusReport | null = null;
  private lastPosition: Position = { ...ORIGIN };
  private lastMachinePosition: Position = { ...ORIGIN };
  /** The deck origin in machine coordinates; null while unknown (no profile, and `$$` was refused). */
  private deckOrigin: Position | null = null;
  /** Where the machine can go, in deck coordinates (the state's `travel`); null while unknown. */
  private travel: Travel | null = null;
  private readonly configuredOrigin: Position | undefined;
  private connected = true;
  private homed = false;
  private alarm: { code: number; message: string } | null = null;
  /** An ALARM:N arrived since GRBL last started: the unlock reminder after the next start is that alarm's, not power-up's. */
  private alarmSinceStart = false;
  private startedAfterAlarm = false;
  /** GRBL said `[MSG:'$H'|'$X' to unlock]`: it is locked in Alarm, though no status report since says so yet. */
  private locked = false;
  /**
   * After ALARM:N GRBL restarts, and drops every line it holds then: by itself 500 ms later after a reset while
   * moving or homing (ALARM:3, 6–10), and after a limit (ALARM:1, 2) once reset, which it asks for 500 ms later
   * (`[MSG:Reset to continue]`) and this controller does. Settles once GRBL has restarted.
   */
  private restartAfterAlarm: { done: Promise<void>; settle(): void } | null = null;
  /** Where the probe last touched, from GRBL's `[PRB:…:1]` (the contract's `lastProbe`). */
  private lastProbe: NonNullable<HardwareState['lastProbe']> | null = null;
  /**
   * While a probe is under way (it measures where the machine stands, then moves relative to it), the operations
   * called after it, chained in call order: they wait for it. Null when none is.
   */
  private exclusive: Promise<void> | null = null;
  /** Counts stop(): an operation waiting behind a probe when the machine was stopped is stopped with it. */
  private stops = 0;
  /** $22 bit 0. Without homing GRBL never locks at power-up, and moves need no homing. */
  private homingEnabled = true;
  /** $13=1: GRBL reports inches; the contract is in millimetres. */
  private inches = false;
  private aborting = false;
  /** An alarm (ALARM:6, 7, 8, 9) ended the homing cycle: `$H` waits for GRBL's reset to answer, but nothing homes. */
  private homingFailed = false;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private announced = '';
  private readonly detach: () => void;
  private readonly outputs: OutputMap;
  /** Spindle and coolant as GRBL last reported them (FS's speed, A:'s letters): what the outputs read. */
  private accessories = { spindleRpm: 0, flood: false, mist: false };
  /** The coolant GRBL's parser has on (M7/M8, until M9 or a reset), which switching one coolant off must keep. */
  private coolant: Coolant = { flood: false, mist: false };

  private constructor(
    readonly driver: GrblDriver,
    options: GrblControllerOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.defaultFeed = options.defaultFeed ?? 1000;
    this.pollMs = options.pollMs ?? { busy: 100, idle: 200 };
    this.holdTimeoutMs = options.holdTimeoutMs ?? 30_000;
    this.configuredOrigin = options.deckOrigin;
    this.deckOrigin = options.deckOrigin ?? null;
    this.outputs = options.outputs ?? new Map();
    const onStatus = (report: StatusReport) => this.onStatus(report);
    const onAlarm = (alarm: GrblCode) => this.onAlarm(alarm);
    const onMessage = (text: string) => this.onMessage(text);
    const onReset = () => this.onReset();
    const onClose = (error: GrblDisconnected) => this.onClose(error);
    driver.on('status', onStatus);
    driver.on('alarm', onAlarm);
    driver.on('message', onMessage);
    driver.on('reset', onReset);
    driver.on('close', onClose);
    this.detach = () => {
      driver.off('status', onStatus);
      driver.off('alarm', onAlarm);
      driver.off('message', onMessage);
      driver.off('reset', onReset);
      driver.off('close', onClose);
    };
  }

  /** GRBL's settings as read at connection (`$$`); empty if GRBL would not print them. */
  get settings(): ReadonlyMap<number, number> {
    return this.grblSettings;
  }

  home(): Promise<HardwareState> {
    return this.queued(() =>
      this.afterAlarmRestart(() =>
        this.operate(['$H'], () => {
          this.homed = true;
        }),
      ),
    );
  }

  /**
   * `$X`: GRBL leaves the alarm (`[MSG:Caution: Unlocked]`, `ok`) and takes G-code again, trusting a position it
   * may have lost. labrun does not: `homed` stays as it was — false after the power-up lock or an alarm that lost
   * the position, so moves stay refused (`not-homed`) until `$H`; true after one that kept it (ALARM:2, 4, 5).
   */
  unlock(): Promise<HardwareState> {
    return this.queued(() => this.afterAlarmRestart(() => this.operate(['$X'])));
  }

  /** `$H` or `$X` asked for right after an alarm (the ways out of it) waits for GRBL's restart: sent before, it would be lost in it. */
  private async afterAlarmRestart(operation: () => Promise<HardwareState>): Promise<HardwareState> {
    await this.restartAfterAlarm?.done;
    return operation();
  }

  move(target: MoveTarget): Promise<HardwareState> {
    return this.queued(() => this.moveNow(target));
  }

  private moveNow(target: MoveTarget): Promise<HardwareState> {
    const coordinates = [target.x, target.y, target.z, target.travelZ].filter((v) => v !== undefined);
    const feedOk = target.feed === undefined || (target.feed >= MOVE_LIMITS.feedMin && target.feed <= MOVE_LIMITS.feedMax);
    if (!coordinates.every((v) => Math.abs(v) <= MOVE_LIMITS.coordinateMm) || !feedOk) {
      return Promise.reject(new RangeError(`a move needs coordinates within ±${MOVE_LIMITS.coordinateMm} mm and a feed from ${MOVE_LIMITS.feedMin} to ${MOVE_LIMITS.feedMax} mm/min`));
    }
    const refused = this.motionRefusal();
    if (refused) return Promise.reject(refused);
    const origin = this.deckOrigin!;
    // Targets are protocol (deck) coordinates: the machine target is the deck origin plus the target, sent with
    // G53 so that GRBL applies no work offset of its own. Converting through the last reported WCO instead would
    // use a stale one (GRBL reports WCO only every 10th/30th report), and a G10/G92 set by another sender would
    // shift every protocol. Always in mm (G21): $13 changes only the units GRBL reports in.
    const word = (axis: 'x' | 'y' | 'z', value: number) => `${axis.toUpperCase()}${gcodeNumber(value + origin[axis])}`;
    const feed = `F${gcodeNumber(target.feed ?? this.defaultFeed)}`;
    const line = (words: string[]) => (words.length > 0 ? [`G90 G21 G53 G1 ${words.join(' ')} ${feed}`] : []);
    const across = (axes: readonly ('x' | 'y' | 'z')[]) => line(axes.filter((axis) => target[axis] !== undefined).map((axis) => word(axis, target[axis]!)));
    // With a travel height: up first, across, then down, so the tool never drags through labware on the way.
    const motion = target.travelZ === undefined ? across(['x', 'y', 'z']) : [...line([word('z', target.travelZ)]), ...across(['x', 'y']), ...across(['z'])];
    // G4 P0 is answered only once the planner is empty: the move's `ok` alone means "planned", not "done".
    const lines = [...motion, 'G4 P0'];
    return this.operate(lines);
  }

  dwell(seconds: number): Promise<HardwareState> {
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 1e7) return Promise.reject(new RangeError('a dwell needs a duration from 0 to 10000000 seconds'));
    return this.queued(() => {
      const refused = this.refusal();
      if (refused) return Promise.reject(refused);
      // GRBL answers G4 once the moves before it are done and the dwell has passed; a feed hold pauses it.
      return this.operate([`G4 P${gcodeNumber(seconds)}`]);
    });
  }

  /**
   * A block of raw G-code, one line at a time: each line is sent once the one before it is answered, so a line
   * GRBL refuses (error:N) is the last it receives — streamed by character counting, the lines after it would be
   * in GRBL's receive buffer already, and run. Framed by BLOCK_START and BLOCK_END; moves need a homed machine.
   */
  gcode(lines: readonly string[]): Promise<HardwareState> {
    return this.queued(() => {
      const refused = this.motionRefusal();
      if (refused) return Promise.reject(refused);
      return this.run(async () => {
        const answers = await Promise.allSettled(this.driver.streamEach([BLOCK_START, ...lines, BLOCK_END], { oneAtATime: true }));
        const failed = answers.findIndex((answer) => answer.status === 'rejected' && !(answer.reason instanceof StreamCancelled));
        if (failed < 0) return;
        const error = (answers[failed] as PromiseRejectedResult).reason as Error;
        // error:9 says GRBL is in alarm (explain() tells which); anything else is the line itself.
        const ownLine = failed >= 1 && failed <= lines.length;
        if (!(ownLine && error instanceof GrblError && error.grblCode !== 9)) throw error;
        // Answer once the lines before it have run, with the state they left.
        await this.driver.send(BLOCK_END).then(
          () => this.refresh(),
          () => undefined,
        );
        throw new GcodeLineRefused(failed, lines[failed - 1]!, error.grblCode);
      });
    });
  }

  /**
   * GRBL's `G38.2` toward a deck point. G38.2 cannot take G53 (error:30), and a work-coordinate target would depend
   * on offsets another sender may have set: so the machine is brought to rest (G4 P0), its position read, and the
   * probe sent relative to it (G91), then G90 again. Operations called meanwhile wait (exclusive). GRBL answers
   * `[PRB:x,y,z:1]`, machine coordinates where the probe touched (the machine stops a little past it), kept as
   * `lastProbe`; touching nothing is ALARM:5, touching before moving ALARM:4: both ProbeFailed.
   */
  probe(target: ProbeTarget): Promise<HardwareState> {
    const within = (v: number | undefined) => v === undefined || Math.abs(v) <= MOVE_LIMITS.coordinateMm;
    const axes = AXES.filter((axis) => target[axis] !== undefined);
    if (axes.length === 0 || !AXES.every((axis) => within(target[axis])) || !(target.feed >= MOVE_LIMITS.feedMin && target.feed <= MOVE_LIMITS.feedMax)) {
      return Promise.reject(new RangeError(`a probe needs at least one coordinate within ±${MOVE_LIMITS.coordinateMm} mm and a feed from ${MOVE_LIMITS.feedMin} to ${MOVE_LIMITS.feedMax} mm/min`));
    }
    return this.queued(async () => {
      const refused = this.motionRefusal();
      if (refused) throw refused;
      await this.operate([BLOCK_END]);
      await this.driver.status(2000); // where the machine rests now: onStatus keeps it
      const stillRefused = this.motionRefusal();
      if (stillRefused) throw stillRefused;
      const origin = this.deckOrigin!;
      const from = this.lastMachinePosition;
      const words = axes.map((axis) => `${axis.toUpperCase()}${gcodeNumber(target[axis]! + origin[axis] - from[axis])}`);
      let report: string | undefined;
      const state = await this.run(async () => {
        const [probed] = await this.driver.stream([`G91 G21 G38.2 ${words.join(' ')} F${gcodeNumber(target.feed)}`, 'G90']);
        report = probed!.output.find((line) => line.startsWith('[PRB:'));
        this.keepProbe(report);
      }).catch((error: Error) => {
        throw this.probeFailure(error, target);
      });
      if (!this.lastProbe || !report?.endsWith(':1]'))
        throw new ProbeFailed('probe-no-contact', `the probe touched nothing on its way to ${describeTarget(target)} (GRBL reported ${report ?? 'no probe result'})`, null);
      return state;
    }, true);
  }

  /** `[PRB:-289.000,-299.000,-79.000:1]`: where the probe touched, as the contract's `lastProbe`. */
  private keepProbe(report: string | undefined): void {
    const match = /^\[PRB:(-?[\d.]+),(-?[\d.]+),(-?[\d.]+)(?:,[^:]*)?:1\]$/.exec(report ?? '');
    if (!match) return;
    const scale = this.inches ? 25.4 : 1;
    const [x, y, z] = [match[1], match[2], match[3]].map((v) => round3(Number(v) * scale)) as [number, number, number];
    const origin = this.deckOrigin ?? ORIGIN;
    this.lastProbe = {
      position: { x: round3(x - origin.x), y: round3(y - origin.y), z: round3(z - origin.z) },
      machinePosition: { x, y, z },
      at: new Date(this.clock.now()).toISOString(),
    };
  }

  /** GRBL's probe alarms, in the probe's words: what it probed toward, and what GRBL said. */
  private probeFailure(error: Error, target: ProbeTarget): Error {
    if (!(error instanceof MachineAlarm) || (error.alarm.code !== 4 && error.alarm.code !== 5)) return error;
    const said = `ALARM:${error.alarm.code} ${error.alarm.message}`;
    if (error.alarm.code === 5) return new ProbeFailed('probe-no-contact', `the probe touched nothing on its way to ${describeTarget(target)}: ${said}`, error.alarm);
    return new ProbeFailed('probe-already-in-contact', `the probe was touching something before it moved toward ${describeTarget(target)}: ${said}`, error.alarm);
  }

  async setOutput(output: string, value: number): Promise<HardwareState> {
    const accessory = outputAccessory(this.outputs, output, value);
    // GRBL's reset (every alarm ends in one) switched spindle and coolant off, and it takes no G-code until
    // unlocked: an output to switch off is off already.
    if (value === 0 && (this.alarm || this.locked) && this.connected) return this.state();
    const refused = this.refusal();
    if (refused) throw refused;
    const lines = outputLines(accessory, value, this.coolant, this.settings.get(30) ?? 1000);
    try {
      const state = await this.operate(lines, () => {
        this.coolant = coolantAfter(lines, this.coolant);
      });
      return state;
    } catch (error) {
      if (error instanceof GrblError && error.grblCode === 20 && lines.includes('M7')) {
        const unavailable = new Error(`${error.message}. This GRBL was built without mist coolant (ENABLE_M7 in its config.h): wire ${output} to flood, or build GRBL with ENABLE_M7`);
        throw Object.assign(unavailable, { code: 'grbl-error' });
      }
      throw error;
    }
  }

  async hold(): Promise<HardwareState> {
    this.assertConnected();
    if (this.homing()) {
      // The homing cycle ignores feed hold: hold once it has finished (GRBL sends no reports until then).
      await this.driver.waitForStatus((r) => r.state !== 'Home', { timeoutMs: 10 * 60_000, pollMs: 250 });
    }
    const state = this.report?.state;
    if (state === 'Alarm' || state === 'Door' || state === 'Sleep') return this.state(); // nothing to hold, or held harder already
    this.driver.realtime('feedHold');
    await this.driver.waitForStatus((r) => (r.state === 'Hold' && r.subState === 0) || r.state === 'Alarm' || r.state === 'Door', {
      timeoutMs: this.holdTimeoutMs,
      pollMs: 50,
    });
    return this.state();
  }

  async release(): Promise<HardwareState> {
    this.assertConnected();
    const report = this.report;
    // GRBL ignores cycle start in an alarm and while the door is open.
    if (!report || report.state === 'Alarm' || this.doorOpen(report)) return this.state();
    if (report.state !== 'Hold' && report.state !== 'Door') return this.state();
    this.driver.realtime('cycleStart');
    let seen = 0;
    await this.driver.waitForStatus((r) => ++seen >= 2 || (r.state !== 'Hold' && r.state !== 'Door'), { timeoutMs: 1000, pollMs: 50 }).catch(() => undefined);
    return this.state();
  }

  /**
   * Abort keeping position: feed hold, wait for the stop, soft reset (GrblDriver.abort). Every pending operation
   * rejects with MotionAborted. During a homing cycle GRBL cannot hold, so it raises ALARM:6 and must be re-homed.
   */
  async stop(): Promise<HardwareState> {
    this.assertConnected();
    this.stops += 1; // what waits behind a probe is stopped too
    const { queued, inFlight } = this.driver.backlog;
    const machine = this.state().machine;
    if (this.operations.size === 0 && queued + inFlight === 0 && (machine === 'Idle' || machine === 'Alarm')) return this.state(); // nothing to stop
    this.aborting = true;
    try {
      await this.driver.abort();
    } catch (error) {
      this.rejectAll(error as Error);
      throw error;
    } finally {
      this.rejectAll(new MotionAborted());
      this.aborting = false;
    }
    await this.refresh();
    return this.state();
  }

  state(): HardwareState {
    const report = this.report;
    return {
      connected: this.connected,
      // GRBL is in Alarm from the moment it pushes ALARM:N (or its unlock reminder), before its next report says so.
      machine: this.homing() ? 'Home' : this.alarm || this.locked ? 'Alarm' : (report?.state ?? 'Idle'),
      position: this.lastPosition,
      machinePosition: this.lastMachinePosition,
      homed: this.homed,
      door: report && this.doorOpen(report) ? 'open' : 'closed',
      alarm: this.alarm,
      outputs: outputLevels(this.outputs, this.accessories, this.settings.get(30) ?? 1000),
      ...(this.lastProbe ? { lastProbe: this.lastProbe } : {}),
      ...(this.travel ? { travel: this.travel } : {}),
      at: new Date(this.clock.now()).toISOString(),
    };
  }

  on(_event: 'state', listener: StateListener): void {
    this.listeners.add(listener);
  }

  off(_event: 'state', listener: StateListener): void {
    this.listeners.delete(listener);
  }

  /** Stop polling and let go of the driver (it stays open). */
  dispose(): void {
    this.restartAfterAlarm?.settle();
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.detach();
  }

  private async handshake(): Promise<void> {
    const { driver } = this;
    // GRBL answers `?` at any time except while homing or locked after a hard/soft limit (it then waits for a
    // reset). An Arduino that opening the port reset answers after its bootloader, 1-2 s later.
    let report = await driver
      .waitForStatus(() => true, { timeoutMs: 4000, pollMs: 250 })
      .catch((error: Error) => {
        if (error instanceof GrblDisconnected) throw error;
        return null;
      });
    if (!report) {
      await driver.softReset(3000).catch((error: Error) => {
        throw new GrblTimeout(`no answer from GRBL on ${driver.name}: no status report, and no welcome message after a soft reset (${error.message})`);
      });
      report = await driver.status(2000);
    }
    // An empty line ends any partial line an earlier session left in GRBL's buffer; its answer (ok, or an error
    // for the leftover) puts the ok-counting in step.
    await driver.send('').catch((error: Error) => {
      if (!(error instanceof GrblError || error instanceof GrblReset)) throw error;
    });
    try {
      this.grblSettings = await driver.settings();
    } catch (error) {
      if (error instanceof GrblDisconnected) throw error;
      // `$$` is refused while GRBL moves (error:8); GRBL's defaults then: homing enabled, millimetres.
    }
    this.homingEnabled = ((this.settings.get(22) ?? 1) & 1) === 1;
    this.inches = this.settings.get(13) === 1;
    // `[OPT:VZ,15,128]`: the build options come before the first comma; `Z` is HOMING_FORCE_SET_ORIGIN, which moves
    // machine zero (and so the travel) to where homing ends.
    const options = await driver.send('$I').then(
      ({ output }) => /^\[OPT:([^,\]]*)/.exec(output.find((line) => line.startsWith('[OPT:')) ?? '')?.[1] ?? '',
      (error: Error) => {
        if (error instanceof GrblDisconnected) throw error;
        return ''; // refused while moving, like `$$`
      },
    );
    const forcesOrigin = options.includes('Z');
    if (!this.configuredOrigin) this.deckOrigin = homedMachinePosition(this.grblSettings, forcesOrigin) ?? null;
    const machineRange = this.homingEnabled ? machineTravel(this.grblSettings, forcesOrigin) : undefined;
    this.travel = machineRange && this.deckOrigin ? deckTravel(machineRange, this.deckOrigin) : null;
    // Homing enabled, GRBL starts locked in Alarm and leaves it only by `$H` (or the `$X` override): a controller
    // found unlocked was homed before this connection.
    const latest = driver.lastStatus ?? report;
    this.homed = this.homingEnabled && latest.state !== 'Alarm';
    // What the parser has on is what the machine has on, unless a door has switched it off meanwhile.
    if (latest.accessories) this.coolant = { flood: latest.accessories.flood, mist: latest.accessories.mist };
    this.onStatus(latest);
  }

  /** Why motion cannot be sent now: refusal(), or a machine that must be homed first, or no deck origin. */
  private motionRefusal(): Error | undefined {
    return (
      this.refusal() ??
      (this.homingEnabled && !this.homed ? new MachineNotHomed(NEVER_HOMED) : undefined) ??
      (this.deckOrigin ? undefined : new DeckOriginUnknown('GRBL refused to print its settings ($$) when labrun connected'))
    );
  }

  /**
   * Run a queued operation now — or, while a probe is under way, once it is done (and the operations called before
   * this one): a probe measures where the machine stands and moves relative to it, so nothing may move it meanwhile.
   * `holdsOthers`: this operation is such a probe. One that waited is refused if stop() came meanwhile.
   */
  private queued(operation: () => Promise<HardwareState>, holdsOthers = false): Promise<HardwareState> {
    const before = this.exclusive;
    const stops = this.stops;
    const result = before ? before.then(() => (this.stops === stops ? operation() : Promise.reject(new MotionAborted()))) : operation();
    if (before || holdsOthers) {
      const settled = result.then(
        () => undefined,
        () => undefined,
      );
      this.exclusive = settled;
      void settled.then(() => {
        if (this.exclusive === settled) this.exclusive = null;
      });
    }
    return result;
  }

  /**
   * Why G-code cannot be sent now, or undefined. GRBL is in alarm from the moment it pushes ALARM:N, before a
   * status report says so: sending then would only earn an error:9 (G-code lock).
   */
  private refusal(): Error | undefined {
    if (!this.connected) return this.disconnected();
    if (this.alarm) return new MachineAlarm(this.alarm, `GRBL is in alarm since ALARM:${this.alarm.code} ${this.alarm.message}`);
    if (this.locked) return new MachineNotHomed(LOCKED_AT_START);
    return undefined;
  }

  /**
   * A line's failure as its operation's: GRBL's G-code lock (error:9) means it is in alarm, which says more than
   * the bare error — the start-up lock when labrun saw no ALARM:N; a restart that clears an alarm (GRBL asks for
   * one after a limit) failed the line because of that alarm.
   */
  private explain(error: Error): Error {
    if (error instanceof GrblError && error.grblCode === 9) return this.refusal() ?? new MachineNotHomed(LOCKED_AT_START);
    if (error instanceof GrblReset && this.alarm) return new MachineAlarm(this.alarm);
    return error;
  }

  /** Send the lines of one operation; it is done when GRBL has answered the last. */
  private operate(lines: string[], done?: () => void): Promise<HardwareState> {
    return this.run(() => Promise.all(lines.map((line) => this.driver.send(line))), done);
  }

  /**
   * Carry out one operation: `send` puts its lines in the driver's queue (at once, so operations keep call order)
   * and settles when GRBL has answered them. Resolves with the state when done; rejects as the lines failed, or
   * as an alarm, a stop or a disconnect ended it first.
   */
  private run(send: () => Promise<unknown>, done?: () => void): Promise<HardwareState> {
    if (!this.connected) return Promise.reject(this.disconnected());
    return new Promise<HardwareState>((resolve, reject) => {
      let settled = false;
      const operation: Operation = {
        reject: (error) => {
          if (settled) return;
          settled = true;
          this.operations.delete(operation);
          reject(error);
        },
      };
      this.operations.add(operation);
      this.poll(); // busy from now on: poll faster
      send().then(
        async () => {
          if (settled) return;
          done?.();
          await this.refresh();
          if (settled) return;
          settled = true;
          this.operations.delete(operation);
          resolve(this.state());
        },
        (error: Error) => operation.reject(this.aborting ? new MotionAborted() : this.explain(error)),
      );
    });
  }

  /** A status report now, so that an operation resolves with the state at the moment it is done. */
  private async refresh(): Promise<void> {
    await this.driver.status(1000).catch(() => undefined);
  }

  private rejectAll(error: Error): void {
    for (const operation of [...this.operations]) operation.reject(error);
  }

  private onStatus(report: StatusReport): void {
    this.report = report;
    // `A:` comes only now and then (with `Ov:`); in between, the accessories are as last reported.
    const accessories = report.accessories;
    this.accessories = { spindleRpm: report.spindle ?? 0, flood: accessories?.flood ?? this.accessories.flood, mist: accessories?.mist ?? this.accessories.mist };
    if (report.mpos) {
      const scale = this.inches ? 25.4 : 1;
      const mpos = { x: round3(report.mpos.x * scale), y: round3(report.mpos.y * scale), z: round3(report.mpos.z * scale) };
      // Positions in protocol coordinates come from MPos and the origin labrun holds, never from a reported WCO.
      const origin = this.deckOrigin ?? ORIGIN;
      this.lastMachinePosition = mpos;
      this.lastPosition = { x: round3(mpos.x - origin.x), y: round3(mpos.y - origin.y), z: round3(mpos.z - origin.z) };
    }
    if (report.state !== 'Alarm') this.alarm = null;
    this.locked = report.state === 'Alarm';
    this.announce();
  }

  private onAlarm(alarm: GrblCode): void {
    this.alarm = { code: alarm.code, message: alarm.message };
    this.alarmSinceStart = true;
    if (this.homing()) this.homingFailed = true;
    if (alarmLosesPosition(alarm.code)) this.homed = false;
    // GRBL restarts after every alarm but a probe's (ALARM:4, 5: mc_probe_cycle() raises them without a reset).
    if (!this.restartAfterAlarm && alarm.code !== 4 && alarm.code !== 5) {
      let settle!: () => void;
      const done = new Promise<void>((resolve) => (settle = resolve));
      // Another firmware that does not restart: waiting longer would only hold the operator up.
      const timer = this.clock.setTimeout(() => this.restartAfterAlarm?.settle(), 3000);
      this.restartAfterAlarm = {
        done,
        settle: () => {
          this.clock.clearTimeout(timer);
          this.restartAfterAlarm = null;
          settle();
        },
      };
    }
    this.rejectAll(this.aborting ? new MotionAborted() : new MachineAlarm(this.alarm));
    this.announce();
    this.poll();
  }

  private onMessage(text: string): void {
    if (text === 'Reset to continue') {
      // After a hard or soft limit GRBL ignores everything, status requests included, until it is reset. The
      // alarm stays; the reset only lets GRBL report it and accept `$H`.
      this.driver.softReset().catch(() => undefined);
    } else if (text === "'$H'|'$X' to unlock") {
      this.locked = true;
      if (!this.startedAfterAlarm) this.homed = false; // locked at power-up (or reset while locked): the position is unknown
      this.announce();
    }
  }

  private onReset(): void {
    // The driver has failed every unanswered line, and with them the operations waiting on them (`reset`). GRBL
    // restarted on its own with work in it — a power cut, its board reset, another program's Ctrl-X — and the
    // banner alone does not say whether the machine was moving: like the replies, count the position as lost.
    // labrun's own resets (stop(), and the reset an alarm asks for) are not that.
    if (!this.aborting && !this.alarm && this.operations.size > 0) this.homed = false;
    this.restartAfterAlarm?.settle();
    // GRBL restarts with spindle and coolant off and its parser at M5 M9.
    this.accessories = { spindleRpm: 0, flood: false, mist: false };
    this.coolant = { flood: false, mist: false };
    this.startedAfterAlarm = this.alarmSinceStart;
    this.alarmSinceStart = false;
    this.homingFailed = false;
    this.announce();
    this.poll();
  }

  private onClose(error: GrblDisconnected): void {
    this.connected = false;
    this.restartAfterAlarm?.settle(); // what waited for it fails as disconnected now
    this.rejectAll(new GrblDisconnected(`${error.message} during the command`));
    this.dispose();
    this.announce();
  }

  private disconnected(): GrblDisconnected {
    return new GrblDisconnected(`not connected to GRBL on ${this.driver.name}`);
  }

  private assertConnected(): void {
    if (!this.connected) throw this.disconnected();
  }

  /**
   * GRBL is running its homing cycle: `$H` is the oldest line it has not answered. GRBL sends no status reports
   * while it homes, so the last report cannot say so.
   */
  private homing(): boolean {
    return this.driver.executing === '$H' && !this.homingFailed;
  }

  /** Door:1 (ajar) and Door:2 (opening, holding) are open; Door:0 (closed, waiting for resume) and Door:3 (closed, resuming) are closed. */
  private doorOpen(report: StatusReport): boolean {
    return (report.state === 'Door' && (report.subState === 1 || report.subState === 2)) || report.pins.door;
  }

  /** Ask for the next report: every `busy` ms while moving or with work queued, every `idle` ms otherwise. */
  private poll(): void {
    if (!this.connected) return;
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer);
    const state = this.state().machine;
    const busy = this.operations.size > 0 || state === 'Run' || state === 'Jog' || state === 'Home' || (state === 'Hold' && this.report?.subState === 1) || state === 'Door';
    this.pollTimer = this.clock.setTimeout(
      () => {
        this.driver.realtime('statusReport');
        this.poll();
      },
      busy ? this.pollMs.busy : this.pollMs.idle,
    ) as ReturnType<typeof setTimeout>;
  }

  /**
   * A `state` event on every change of machine state, homed, door, alarm, connection or an output's level — and when a feed hold has
   * brought the machine to rest (Hold:1 → Hold:0, Door:2 → Door:1/0): that state carries where it stopped, which
   * the deceleration after the hold moved it to.
   */
  private announce(): void {
    const { machine, homed, door, alarm, connected, outputs } = this.state();
    const stopping = (machine === 'Hold' && this.report?.subState === 1) || (machine === 'Door' && this.report?.subState === 2);
    const summary = JSON.stringify([machine, stopping, homed, door, alarm?.code ?? null, connected, outputs, this.lastProbe?.at ?? null]);
    if (summary === this.announced) return;
    this.announced = summary;
    const state = this.state();
    for (const listener of this.listeners) listener(state);
  }
}
