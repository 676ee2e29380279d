// The GRBL 1.1 serial driver: one controller on one byte stream (a serial port, a pseudo-terminal, or the
// simulator's in-process port). It frames what GRBL sends into messages, matches each `ok` / `error:N` to the
// line it answers (GRBL answers lines strictly in order), streams lines by character counting against GRBL's
// serial receive buffer (or send-and-wait), sends real-time commands at once, outside the count, and keeps the
// latest status report. Protocol reference: gnea/grbl doc/markdown/interface.md; driver/README.md.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { describeAlarm, type GrblCode } from './codes.js';
import { GrblDisconnected, GrblError, GrblLostReply, GrblReset, GrblTimeout, StreamCancelled } from './errors.js';
import { LineSplitter, classifyLine } from './messages.js';
import { completeStatus, type StatusMemory, type StatusReport } from './status-report.js';

/** GRBL 1.1's real-time commands: single bytes GRBL picks out of the stream the moment they arrive. */
export const REALTIME = {
  /** `?` status report. */
  statusReport: 0x3f,
  /** `~` cycle start / resume. */
  cycleStart: 0x7e,
  /** `!` feed hold. */
  feedHold: 0x21,
  /** Ctrl-X soft reset. */
  softReset: 0x18,
  /** Safety door, as if the door switch had opened. */
  safetyDoor: 0x84,
  /** Cancel the current jog and flush the jog motions. */
  jogCancel: 0x85,
  feedOverrideReset: 0x90,
  feedOverridePlus10: 0x91,
  feedOverrideMinus10: 0x92,
  feedOverridePlus1: 0x93,
  feedOverrideMinus1: 0x94,
  rapidOverride100: 0x95,
  rapidOverride50: 0x96,
  rapidOverride25: 0x97,
  spindleOverrideReset: 0x99,
  spindleOverridePlus10: 0x9a,
  spindleOverrideMinus10: 0x9b,
  spindleOverridePlus1: 0x9c,
  spindleOverrideMinus1: 0x9d,
  toggleSpindleStop: 0x9e,
  toggleFloodCoolant: 0xa0,
  toggleMistCoolant: 0xa1,
} as const;
export type RealtimeCommand = keyof typeof REALTIME;

/**
 * How lines are paced. `character-counting` keeps GRBL's receive buffer as full as it can without overflowing it
 * (gnea/grbl doc/script/stream.py); `send-and-wait` sends the next line only once the last is answered
 * (simple_stream.py): slower on short segments, but it never has more than one line in GRBL's hands.
 */
export type StreamingMode = 'character-counting' | 'send-and-wait';

export interface GrblDriverOptions {
  /** Default `character-counting`. */
  streaming?: StreamingMode;
  /** GRBL's serial receive buffer in bytes: 128 on the Arduino Uno build (RX_BUFFER_SIZE). */
  rxBufferSize?: number;
  /** What the stream is, for messages: the serial path, or `simulator`. */
  name?: string;
  /**
   * How long GRBL may report Idle with its planner and receive buffer empty (3 reports at least) while a line
   * still awaits its answer, before the answer counts as lost and the line fails with `lost-reply`. A `G4 P<s>`
   * in flight adds its dwell. Default 2000 ms.
   */
  lostReplyAfterMs?: number;
  /**
   * How long GRBL may send nothing at all (no answer, no status report: the driver asks `?` itself after a
   * second of silence) while a line awaits its answer, before the lines in flight fail with `timeout`. Default
   * 10 000 ms; while `$H` is the oldest line (GRBL is silent while it homes), `homingTimeoutMs`, default 300 000.
   */
  silenceTimeoutMs?: number;
  homingTimeoutMs?: number;
}

export interface StreamOptions {
  /**
   * Send each line only once the line before it is answered, and nothing else meanwhile (as EEPROM writes are
   * sent), whatever the streaming mode: at the first `error:N` nothing after the refused line has reached GRBL.
   * Character counting would have put the next lines in GRBL's receive buffer already, and GRBL runs them.
   */
  oneAtATime?: boolean;
}

/** The answer to a line: GRBL's `ok`, and the push messages that came with it (`$$` settings, `[GC:…]`, `[MSG:…]`). */
export interface LineResult {
  line: string;
  output: string[];
}

export interface GrblDriverEvents {
  /** A status report, completed with the last WCO / overrides (see StatusReport). */
  status: [report: StatusReport];
  /** `ALARM:N`, with GRBL's description. */
  alarm: [alarm: GrblCode];
  /** `[MSG:…]`, such as `Reset to continue` or `'$H'|'$X' to unlock`. */
  message: [text: string];
  /** Queried feedback (`[GC:…]`, `[HLP:…]`, `[VER:…]`, `[G54:…]`, …) and startup-line results (`startup`). */
  feedback: [kind: string, text: string];
  /** The welcome message: GRBL (re)started, and every line it had not answered was failed with GrblReset. */
  reset: [version: string];
  /** A line that is no GRBL 1.1 message, or a response with no line awaiting one. It changes nothing. */
  unexpected: [line: string, reason: string];
  /** The stream closed; every line not answered was failed with GrblDisconnected. */
  close: [error: GrblDisconnected];
}

interface Outgoing {
  line: string;
  bytes: Buffer;
  /** Date.now() when written to GRBL; 0 while queued. */
  sentAt: number;
  /** A `G4 P<s>` dwell: GRBL legitimately sits Idle this long before answering. */
  dwellMs: number;
  /** Sent alone, nothing else in flight before or after it until it is answered: an EEPROM write, or a line of a one-at-a-time stream. */
  sync: boolean;
  output: string[];
  resolve(result: LineResult): void;
  reject(error: Error): void;
  stream?: { failed: Error | null };
}

interface StatusWaiter {
  accept(report: StatusReport): boolean;
  resolve(report: StatusReport): void;
  reject(error: Error): void;
}

// GRBL writes EEPROM for these; interface.md: "Settings should not be streamed with the character-counting
// streaming protocols ... the AVR CPU also shuts-down the serial RX interrupt" while it writes.
const EEPROM_WRITE = /^(\$(\d+|N\d|I|RST)=|.*G10L20?(?!\d)|.*G28\.1|.*G30\.1)/;

/** `G4` (or `G04`), and its P word wherever it stands in the line. */
const DWELL = /G0*4(?![\d.])/;
const P_WORD = /P(\d*\.?\d*)/;
/** How often the driver looks for silence while lines await answers, and asks `?` once GRBL has been quiet. */
const WATCH_MS = 250;
const ASK_AFTER_SILENT_MS = 1000;
/** Idle reports in a row before a missing answer can count as lost: the first may predate the line's arrival. */
const IDLE_REPORTS_FOR_LOST_REPLY = 3;

/** States in which a feed hold has nothing left to stop: a soft reset there keeps the machine position. */
const STOPPED = (report: StatusReport) =>
  (report.state === 'Hold' && report.subState === 0) ||
  (report.state === 'Door' && (report.subState === 0 || report.subState === 1)) ||
  report.state === 'Alarm' ||
  report.state === 'Sleep' ||
  report.state === 'Check';

export class GrblDriver extends EventEmitter<GrblDriverEvents> {
  /**
   * Open a serial port (`/dev/ttyUSB0`, `/dev/ttyACM0`, a pty) and drive the GRBL on it. Opening an Arduino's
   * port usually resets it (DTR): its welcome message then arrives a second or two later.
   */
  static async open(path: string, baudRate = 115200, options: GrblDriverOptions = {}): Promise<GrblDriver> {
    const { SerialPort } = await import('serialport'); // loaded only when a real port is used
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(new GrblDisconnected(`cannot open ${path} at ${baudRate} baud: ${error.message}`)) : resolve())));
    return new GrblDriver(port, { name: path, ...options });
  }

  readonly name: string;
  readonly rxBufferSize: number;
  /** May be changed at any time; it applies from the next line sent. */
  streaming: StreamingMode;

  private readonly splitter = new LineSplitter();
  private readonly queue: Outgoing[] = [];
  private readonly inFlight: Outgoing[] = [];
  private inFlightBytes = 0;
  /** A soft reset was sent and the welcome message has not arrived: nothing may be written meanwhile. */
  private resetting = false;
  private closed: GrblDisconnected | null = null;
  private memory: StatusMemory = { wco: null, overrides: null, accessories: null };
  private statusWaiters = new Set<StatusWaiter>();
  private resetWaiters = new Set<{ resolve(version: string): void; reject(error: Error): void }>();
  private latest: StatusReport | null = null;
  private grblVersion: string | null = null;
  private readonly lostReplyAfterMs: number;
  private readonly silenceTimeoutMs: number;
  private readonly homingTimeoutMs: number;
  /** Since when, and for how many reports, GRBL has been Idle with nothing buffered while a line awaits its answer. */
  private idle: { since: number; reports: number } | null = null;
  /** The most free planner blocks GRBL has reported: its planner is empty when it reports this many. */
  private plannerBlocks = 0;
  /** The most free receive-buffer bytes GRBL has reported: its receive buffer is empty when it reports this many. */
  private rxBytes = 0;
  private lastHeard = 0;
  private lastAsked = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly port: Duplex,
    options: GrblDriverOptions = {},
  ) {
    super();
    this.name = options.name ?? 'the serial port';
    this.rxBufferSize = options.rxBufferSize ?? 128;
    this.streaming = options.streaming ?? 'character-counting';
    this.lostReplyAfterMs = options.lostReplyAfterMs ?? 2000;
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? 10_000;
    this.homingTimeoutMs = options.homingTimeoutMs ?? 300_000;
    port.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) {
        this.lastHeard = Date.now();
        this.receive(line);
      }
    });
    port.on('close', () => this.shut(`the connection to GRBL on ${this.name} closed`));
    port.on('end', () => this.shut(`GRBL on ${this.name} hung up`));
    port.on('error', (error: Error) => {
      this.shut(`the connection to GRBL on ${this.name} failed: ${error.message}`);
      port.destroy();
    });
  }

  /** The latest status report, or null before the first. */
  get lastStatus(): StatusReport | null {
    return this.latest;
  }

  /** The version in GRBL's last welcome message (`1.1h`), or null if none was seen on this connection. */
  get version(): string | null {
    return this.grblVersion;
  }

  get isOpen(): boolean {
    return this.closed === null;
  }

  /** The oldest line GRBL has not answered: the one it is executing (or will, once its planner has room). */
  get executing(): string | null {
    return this.inFlight[0]?.line ?? null;
  }

  /** Lines waiting to be sent, lines sent and not yet answered, and the bytes those occupy in GRBL's buffer. */
  get backlog(): { queued: number; inFlight: number; inFlightBytes: number } {
    return { queued: this.queue.length, inFlight: this.inFlight.length, inFlightBytes: this.inFlightBytes };
  }

  /**
   * Send one line (G-code or a `$` command, without its line ending). Resolves on GRBL's `ok`; rejects with
   * GrblError on `error:N`, GrblReset if GRBL restarts first, GrblDisconnected if the stream closes first.
   * Lines are sent in call order. EEPROM writes (`$x=`, `$N0=`, `$I=`, `$RST=`, `G10 L2/L20`, `G28.1`, `G30.1`) are
   * sent alone, as interface.md requires.
   */
  send(line: string): Promise<LineResult> {
    return this.enqueue(line);
  }

  /**
   * Send a program, line by line as `send` does. Resolves when every line is answered. At the first `error:N`
   * the lines not yet sent are dropped (they reject with StreamCancelled) and the whole rejects with that error;
   * lines already in GRBL's buffer still run: GRBL offers no way to take them back.
   */
  stream(lines: Iterable<string>, options: StreamOptions = {}): Promise<LineResult[]> {
    return Promise.all(this.streamEach(lines, options));
  }

  /** `stream`, answering each line on its own: the caller sees which line failed (the rest: StreamCancelled). */
  streamEach(lines: Iterable<string>, { oneAtATime = false }: StreamOptions = {}): Promise<LineResult>[] {
    const group = { failed: null as Error | null };
    const results: Promise<LineResult>[] = [];
    for (const line of lines) results.push(this.enqueue(line, group, oneAtATime));
    return results;
  }

  /**
   * Send a real-time command now, ahead of any queued line and outside the character count. Returns false if the
   * stream is closed. A soft reset holds back further lines until GRBL's welcome message arrives.
   */
  realtime(command: RealtimeCommand | number): boolean {
    const byte = typeof command === 'number' ? command : REALTIME[command];
    if (!(byte === 0x3f || byte === 0x7e || byte === 0x21 || byte === 0x18 || (byte >= 0x80 && byte <= 0xff))) {
      throw new RangeError(`0x${byte.toString(16)} is not a GRBL real-time command`);
    }
    if (this.closed) return false;
    if (byte === REALTIME.softReset) this.resetting = true;
    this.port.write(Buffer.of(byte));
    return true;
  }

  /** Ask for a status report (`?`) and resolve with the next one. GRBL does not answer during homing. */
  status(timeoutMs = 1000): Promise<StatusReport> {
    return this.waitForStatus(() => true, { timeoutMs, pollMs: timeoutMs });
  }

  /**
   * Resolve with the first status report `accept` takes, asking with `?` every `pollMs` meanwhile. Rejects with
   * GrblTimeout after `timeoutMs`, GrblDisconnected if the stream closes.
   */
  waitForStatus(accept: (report: StatusReport) => boolean, { timeoutMs = 10_000, pollMs = 50 } = {}): Promise<StatusReport> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<StatusReport>((resolve, reject) => {
      const finish = () => {
        clearInterval(poll);
        clearTimeout(timer);
        this.statusWaiters.delete(waiter);
      };
      const waiter: StatusWaiter = {
        accept,
        resolve: (report) => (finish(), resolve(report)),
        reject: (error) => (finish(), reject(error)),
      };
      const poll = setInterval(() => this.realtime('statusReport'), pollMs);
      const timer = setTimeout(() => waiter.reject(new GrblTimeout(`GRBL on ${this.name} sent no fitting status report within ${timeoutMs} ms`)), timeoutMs);
      this.statusWaiters.add(waiter);
      this.realtime('statusReport');
    });
  }

  /** Soft reset (Ctrl-X) and resolve with the version in GRBL's welcome message once it has restarted. */
  softReset(timeoutMs = 5000): Promise<string> {
    const restarted = this.nextReset(timeoutMs);
    this.realtime('softReset');
    return restarted;
  }

  /**
   * Stop all motion and empty GRBL's buffers while keeping the machine position: feed hold (`!`), wait until the
   * machine has stopped (`Hold:0`, `Door:0/1`, Idle, or Alarm), then soft reset and wait for the welcome message.
   * A soft reset during motion would lose position and raise ALARM:3. The homing cycle ignores feed hold, so
   * during homing the reset is immediate and GRBL raises ALARM:6. Every line not yet answered fails (GrblReset).
   */
  async abort(timeoutMs = 30_000): Promise<void> {
    if (this.closed) throw this.closed;
    if (this.latest?.state !== 'Home' && !/^\$H$/i.test(this.executing ?? '')) {
      this.realtime('feedHold');
      // A report already on its way, or one GRBL builds before it acts on the `!`, can say Idle while a queued
      // line is about to start moving. Stopped states are safe whenever seen; Idle only from the third report on.
      let seen = 0;
      await this.waitForStatus(
        (report) => {
          seen += 1;
          return STOPPED(report) || (report.state === 'Idle' && seen >= 3);
        },
        { timeoutMs, pollMs: 20 },
      );
    }
    await this.softReset();
  }

  /** The homing cycle (`$H`); resolves when it has finished. */
  async home(): Promise<void> {
    await this.send('$H');
  }

  /** Leave the alarm state without homing (`$X`). GRBL warns: the position may not be trusted. */
  async unlock(): Promise<void> {
    await this.send('$X');
  }

  /** GRBL's settings (`$$`), as setting number → value (`$110=500.000` → 110 → 500). */
  async settings(): Promise<Map<number, number>> {
    const { output } = await this.send('$$');
    const settings = new Map<number, number>();
    for (const line of output) {
      const match = /^\$(\d+)=(-?[\d.]+)$/.exec(line);
      if (match) settings.set(Number(match[1]), Number(match[2]));
    }
    return settings;
  }

  /** Close the stream. Lines not yet answered fail with GrblDisconnected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.shut(`the connection to GRBL on ${this.name} was closed`);
    await new Promise<void>((resolve) => {
      this.port.once('close', () => resolve());
      setTimeout(resolve, 1000).unref(); // a stream that never says it closed must not hang the caller
      this.port.destroy();
    });
  }

  private enqueue(line: string, stream?: { failed: Error | null }, alone = false): Promise<LineResult> {
    const invalid = this.refusal(line);
    if (invalid) return Promise.reject(new RangeError(invalid));
    if (this.closed) return Promise.reject(this.closed);
    if (stream?.failed) return Promise.reject(new StreamCancelled(line, stream.failed));
    return new Promise<LineResult>((resolve, reject) => {
      const bytes = Buffer.from(`${line}\n`, 'latin1');
      const compact = line.replace(/\s/g, '').toUpperCase();
      const dwellMs = DWELL.test(compact) ? (Number(P_WORD.exec(compact)?.[1]) || 0) * 1000 : 0;
      this.queue.push({ line, bytes, sentAt: 0, dwellMs, sync: alone || EEPROM_WRITE.test(compact), output: [], resolve, reject, ...(stream ? { stream } : {}) });
      this.pump();
    });
  }

  /** Why a line cannot be sent as one, or undefined. */
  private refusal(line: string): string | undefined {
    if (/[\r\n]/.test(line)) return `one line at a time, without its line ending: ${JSON.stringify(line)}`;
    const realtime = /[?!~\x18\x80-\uffff]/.exec(line);
    if (realtime) return `${JSON.stringify(line)} contains ${JSON.stringify(realtime[0])}, which GRBL takes as a real-time command; use realtime()`;
    if (/[\x00-\x08\x0b-\x1f\x7f]/.test(line)) return `${JSON.stringify(line)} contains a control character`;
    if (line.length + 1 > this.rxBufferSize) return `${JSON.stringify(line)} is longer than GRBL's ${this.rxBufferSize}-byte receive buffer`;
    return undefined;
  }

  /** Write queued lines while GRBL's receive buffer has room for them (or, send-and-wait, while nothing is in flight). */
  private pump(): void {
    if (this.closed || this.resetting) return;
    const batch: Buffer[] = [];
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (this.inFlight.length > 0) {
        if (this.streaming === 'send-and-wait' || next.sync || this.inFlight.some((l) => l.sync)) break;
        if (this.inFlightBytes + next.bytes.length > this.rxBufferSize) break;
      }
      this.queue.shift();
      next.sentAt = Date.now();
      this.inFlight.push(next);
      this.inFlightBytes += next.bytes.length;
      batch.push(next.bytes);
    }
    if (batch.length === 0) return;
    // One write for all the lines that fit: one system call, and no gap between them on the wire.
    this.port.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    this.idle = null; // GRBL has new work: idle reports from before it say nothing about it
    this.watchdog ??= setInterval(() => this.watchSilence(), WATCH_MS);
    this.watchdog.unref?.();
  }

  /**
   * A lost `ok` would leave its line waiting forever and hand every later answer to the wrong line. GRBL shows
   * that it has done everything it was sent: Idle, planner empty, receive buffer empty (`Bf`, when reported),
   * report after report. A dwell (`G4`, Idle while it counts) gets its duration on top; `$H` is never judged
   * (GRBL sends no reports while homing); Hold, Door, Run and the rest mean work is still pending.
   */
  private watchForLostReply(report: StatusReport): void {
    if (report.buffer) {
      this.plannerBlocks = Math.max(this.plannerBlocks, report.buffer.plannerBlocksFree);
      this.rxBytes = Math.max(this.rxBytes, report.buffer.rxBytesFree);
    }
    const oldest = this.inFlight[0];
    // Empty as GRBL has shown them empty: a build with a bigger receive buffer than rxBufferSize reports more free.
    const drained = !report.buffer || (report.buffer.rxBytesFree >= Math.max(this.rxBufferSize, this.rxBytes) && report.buffer.plannerBlocksFree >= this.plannerBlocks);
    if (!oldest || report.state !== 'Idle' || !drained || this.inFlight.some((l) => /^\$H$/i.test(l.line))) {
      this.idle = null;
      return;
    }
    const now = Date.now();
    this.idle = this.idle ? { since: this.idle.since, reports: this.idle.reports + 1 } : { since: now, reports: 1 };
    const dwellMs = this.inFlight.reduce((sum, l) => sum + l.dwellMs, 0);
    const idleMs = now - this.idle.since;
    if (this.idle.reports < IDLE_REPORTS_FOR_LOST_REPLY || idleMs < this.lostReplyAfterMs + dwellMs) return;
    this.failInFlight((line) => new GrblLostReply(line.line, idleMs));
  }

  /** GRBL sent nothing for too long while lines await answers: ask `?`, and in the end give up on them. */
  private watchSilence(): void {
    const oldest = this.inFlight[0];
    if (!oldest || this.closed) {
      if (this.watchdog) clearInterval(this.watchdog);
      this.watchdog = null;
      return;
    }
    if (this.resetting) return;
    const now = Date.now();
    const silentMs = now - Math.max(this.lastHeard, oldest.sentAt);
    const homing = /^\$H$/i.test(oldest.line);
    const limit = homing ? this.homingTimeoutMs : this.silenceTimeoutMs + oldest.dwellMs;
    if (silentMs >= limit) {
      const error = (line: Outgoing) =>
        new GrblTimeout(
          `GRBL on ${this.name} sent nothing for ${Math.round(silentMs / 1000)} s, not even a status report, while ${JSON.stringify(line.line)} awaited its answer: it may have hung, or the link is broken`,
        );
      this.failInFlight(error);
      return;
    }
    if (!homing && silentMs >= ASK_AFTER_SILENT_MS && now - this.lastAsked >= ASK_AFTER_SILENT_MS) {
      this.lastAsked = now;
      this.realtime('statusReport');
    }
  }

  /** Give up on every line in flight: GRBL will not answer them. Its receive buffer is empty, so the count starts from 0. */
  private failInFlight(error: (line: Outgoing) => Error): void {
    const lost = [...this.inFlight];
    this.inFlight.length = 0;
    this.inFlightBytes = 0;
    this.idle = null;
    for (const line of lost) this.fail(line, error(line));
    this.pump();
  }

  private receive(line: string): void {
    const message = classifyLine(line);
    switch (message.type) {
      case 'ok':
      case 'error': {
        const answered = this.inFlight.shift();
        if (!answered) {
          this.emit('unexpected', line, `${message.type === 'ok' ? 'ok' : 'error'} with no line awaiting an answer`);
          return;
        }
        this.inFlightBytes -= answered.bytes.length;
        this.idle = null;
        if (message.type === 'ok') answered.resolve({ line: answered.line, output: answered.output });
        else this.fail(answered, new GrblError(answered.line, message.code));
        this.pump();
        return;
      }
      case 'status': {
        const { report, memory } = completeStatus(message.fields, line, this.memory);
        this.memory = memory;
        this.latest = report;
        this.watchForLostReply(report);
        for (const waiter of [...this.statusWaiters]) if (waiter.accept(report)) waiter.resolve(report);
        this.emit('status', report);
        return;
      }
      case 'alarm':
        this.emit('alarm', describeAlarm(message.code));
        return;
      case 'welcome':
        if (message.before) this.emit('unexpected', message.before, 'cut off by a GRBL reset');
        this.restarted(message.version);
        return;
      case 'message':
        this.inFlight[0]?.output.push(line);
        this.emit('message', message.text);
        return;
      case 'feedback':
        this.inFlight[0]?.output.push(line);
        this.emit('feedback', message.kind, message.text);
        return;
      case 'setting':
      case 'startup-line':
        if (this.inFlight[0]) this.inFlight[0].output.push(line);
        else this.emit('unexpected', line, 'a settings line with no command awaiting it');
        return;
      case 'startup-executed':
        this.emit('feedback', 'startup', line.slice(1));
        return;
      case 'empty':
        return;
      case 'unexpected':
        this.emit('unexpected', message.line, message.reason);
        return;
    }
  }

  /** GRBL (re)started: it has forgotten every line it had not answered, and the ones we had not sent must not run. */
  private restarted(version: string): void {
    this.resetting = false;
    this.grblVersion = version;
    // GRBL restarts with spindle and coolant off; `A:` says so again only with its next `Ov:`.
    this.memory = { ...this.memory, accessories: null };
    const lost = [...this.inFlight, ...this.queue];
    this.inFlight.length = 0;
    this.queue.length = 0;
    this.inFlightBytes = 0;
    for (const line of lost) line.reject(new GrblReset(line.line));
    for (const waiter of [...this.resetWaiters]) waiter.resolve(version);
    this.emit('reset', version);
    this.pump();
  }

  /** Fail a line; in a stream, drop the lines of that stream not yet sent. */
  private fail(line: Outgoing, error: Error): void {
    line.reject(error);
    const stream = line.stream;
    if (!stream || stream.failed) return;
    stream.failed = error;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const queued = this.queue[i]!;
      if (queued.stream !== stream) continue;
      this.queue.splice(i, 1);
      queued.reject(new StreamCancelled(queued.line, error));
    }
  }

  private nextReset(timeoutMs: number): Promise<string> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        resolve: (version: string) => (clearTimeout(timer), this.resetWaiters.delete(waiter), resolve(version)),
        reject: (error: Error) => (clearTimeout(timer), this.resetWaiters.delete(waiter), reject(error)),
      };
      const timer = setTimeout(() => {
        this.resetting = false;
        waiter.reject(new GrblTimeout(`GRBL on ${this.name} did not restart within ${timeoutMs} ms of a soft reset`));
        this.pump();
      }, timeoutMs);
      this.resetWaiters.add(waiter);
    });
  }

  private shut(reason: string): void {
    if (this.closed) return;
    const error = new GrblDisconnected(reason);
    this.closed = error;
    const lost = [...this.inFlight, ...this.queue];
    this.inFlight.length = 0;
    this.queue.length = 0;
    this.inFlightBytes = 0;
    for (const line of lost) line.reject(new GrblDisconnected(`${reason} before GRBL answered ${JSON.stringify(line.line)}`));
    for (const waiter of [...this.statusWaiters]) waiter.reject(error);
    for (const waiter of [...this.resetWaiters]) waiter.reject(error);
    this.emit('close', error);
  }
}
