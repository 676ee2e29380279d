// The GRBL driver against a scripted serial line: every byte it writes is recorded, and every byte "GRBL" sends
// is written by the test, so framing, ok-matching, flow control and resets can be staged exactly.
import { afterEach, describe, expect, it } from 'vitest';
import { GrblDisconnected, GrblError, GrblLostReply, GrblReset, GrblTimeout } from './errors.js';
import { GrblDriver, type LineResult } from './grbl-driver.js';
import { ScriptedPort } from './scripted-port.js';
import type { StatusReport } from './status-report.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Watch a promise without awaiting it, so a test can ask "has it settled yet?". */
function watch<T>(promise: Promise<T>) {
  const seen: { settled: boolean; value?: T; error?: Error } = { settled: false };
  promise.then(
    (value) => Object.assign(seen, { settled: true, value }),
    (error: Error) => Object.assign(seen, { settled: true, error }),
  );
  return seen;
}

/**
 * A stand-in for GRBL's serial receive side: it takes bytes into a 128-byte buffer and, each time `process()` is
 * called, consumes one complete line from it and answers `ok` (or what `answer` says). It records the most
 * bytes its buffer ever held, and fails the test on an overflow, as real GRBL would silently corrupt lines.
 */
class FakeReceiver {
  buffer = '';
  maxBuffered = 0;
  lines: string[] = [];
  realtime: number[] = [];
  constructor(
    private readonly port: ScriptedPort,
    private readonly size = 128,
    private readonly answer: (line: string) => string = () => 'ok',
  ) {
    port.onWrite = (chunk) => {
      for (const byte of chunk) {
        if (byte === 0x3f || byte === 0x21 || byte === 0x7e || byte === 0x18 || byte >= 0x80) this.realtime.push(byte);
        else this.buffer += String.fromCharCode(byte);
      }
      this.maxBuffered = Math.max(this.maxBuffered, this.buffer.length);
      if (this.buffer.length > this.size) throw new Error(`RX buffer overflow: ${this.buffer.length} bytes`);
    };
  }

  /** Bytes of complete lines waiting. */
  get waiting(): number {
    return this.buffer.length;
  }

  process(): boolean {
    const end = this.buffer.indexOf('\n');
    if (end < 0) return false;
    const line = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end + 1);
    this.lines.push(line);
    this.port.reply(`${this.answer(line)}\r\n`);
    return true;
  }
}

let port: ScriptedPort;
let driver: GrblDriver;

function setup(options: ConstructorParameters<typeof GrblDriver>[1] = {}) {
  port = new ScriptedPort();
  driver = new GrblDriver(port, { name: 'test', ...options });
  const events: Array<[string, ...unknown[]]> = [];
  for (const name of ['status', 'alarm', 'message', 'feedback', 'reset', 'unexpected', 'close'] as const) {
    driver.on(name, (...args: unknown[]) => events.push([name, ...args]));
  }
  return events;
}

afterEach(async () => {
  await driver?.close();
});

describe('GrblDriver: lines and answers', () => {
  it('frames the controller output into lines however the bytes are split, and matches ok / error:N in order', async () => {
    setup();
    const first = watch(driver.send('G21'));
    const second = watch(driver.send('G1 X10'));
    const third = watch(driver.send('G90'));
    await tick();
    expect(port.lines).toEqual(['G21', 'G1 X10', 'G90']);
    for (const piece of ['o', 'k\r', '\nerr', 'or:2', '2\r\n', 'ok\r\n']) {
      port.reply(piece);
      await tick();
    }
    expect(first.value).toEqual({ line: 'G21', output: [] });
    expect(second.error).toBeInstanceOf(GrblError);
    expect(second.error).toMatchObject({
      code: 'grbl-error',
      grblCode: 22,
      message: 'GRBL refused "G1 X10": error:22 Feed rate has not yet been set or is undefined.',
    });
    expect(third.value).toEqual({ line: 'G90', output: [] });
  });

  it('accepts \\n, \\r\\n and \\r line endings', async () => {
    setup();
    const results = [driver.send('A1'), driver.send('A2'), driver.send('A3')];
    port.reply('ok\nok\rok\r\n');
    await expect(Promise.all(results)).resolves.toHaveLength(3);
  });

  it('gives the push messages that came with a line to that line: $$ parsed to a map', async () => {
    setup();
    const settings = driver.settings();
    await tick();
    expect(port.lines).toEqual(['$$']);
    port.reply('$0=10\r\n$1=25\r\n$13=0\r\n$22=1\r\n$110=500.000\r\n$130=200.000\r\nok\r\n');
    expect(await settings).toEqual(
      new Map([
        [0, 10],
        [1, 25],
        [13, 0],
        [22, 1],
        [110, 500],
        [130, 200],
      ]),
    );
  });

  it('emits [GC:…], [HLP:…] and [MSG:…] and attaches them to the line that asked', async () => {
    const events = setup();
    const gc = driver.send('$G');
    const help = driver.send('$');
    port.reply('[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0]\r\nok\r\n');
    port.reply('[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]\r\nok\r\n');
    expect(await gc).toEqual({ line: '$G', output: ['[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0]'] } satisfies LineResult);
    expect((await help).output).toEqual(['[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]']);
    port.reply("[MSG:'$H'|'$X' to unlock]\r\n>G54:ok\r\n");
    await tick();
    expect(events).toEqual([
      ['feedback', 'GC', 'G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0'],
      ['feedback', 'HLP', '$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x'],
      ['message', "'$H'|'$X' to unlock"],
      ['feedback', 'startup', 'G54:ok'],
    ]);
  });

  it("emits ALARM:N with GRBL's description", async () => {
    const events = setup();
    port.reply('ALARM:1\r\n[MSG:Reset to continue]\r\n');
    await tick();
    expect(events).toEqual([
      [
        'alarm',
        {
          code: 1,
          name: 'Hard limit',
          message: 'Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended.',
        },
      ],
      ['message', 'Reset to continue'],
    ]);
  });

  it('reports garbage as unexpected and keeps matching answers to lines', async () => {
    const events = setup();
    const first = watch(driver.send('G21'));
    const second = watch(driver.send('G90'));
    port.reply('okay\r\n\x00\xff\xfe\r\nerror:\r\nALARM:x\r\n<Idle|MPos:abc,0,0>\r\n<Idle>\r\n<Bogus|MPos:0,0,0>\r\n[unterminated\r\n');
    port.reply('ok\r\n');
    port.reply('Grbl 1.1h\r\nOK\r\nok \r\n');
    port.reply('ok\r\n');
    await tick();
    expect(first.value?.line).toBe('G21');
    expect(second.value?.line).toBe('G90');
    expect(events.map(([type, line]) => [type, line])).toEqual([
      ['unexpected', 'okay'],
      ['unexpected', '\x00\xff\xfe'],
      ['unexpected', 'error:'],
      ['unexpected', 'ALARM:x'],
      ['unexpected', '<Idle|MPos:abc,0,0>'],
      ['unexpected', '<Idle>'],
      ['unexpected', '<Bogus|MPos:0,0,0>'],
      ['unexpected', '[unterminated'],
      ['unexpected', 'Grbl 1.1h'],
      ['unexpected', 'OK'],
      ['unexpected', 'ok '],
    ]);
  });

  it('reports an ok or error with no line awaiting it as unexpected', async () => {
    const events = setup();
    port.reply('ok\r\nerror:9\r\n');
    await tick();
    expect(events).toEqual([
      ['unexpected', 'ok', 'ok with no line awaiting an answer'],
      ['unexpected', 'error:9', 'error with no line awaiting an answer'],
    ]);
  });

  it('cuts an endless line of noise into bounded pieces', async () => {
    const events = setup();
    port.reply(Buffer.alloc(5000, 0x55));
    await tick();
    expect(events.length).toBeGreaterThanOrEqual(9);
    expect(events.every(([type, line]) => type === 'unexpected' && (line as string).length <= 512)).toBe(true);
  });

  it('refuses lines GRBL would misread: line endings, real-time characters, longer than its buffer', async () => {
    setup();
    await expect(driver.send('G1 X1\nG1 X2')).rejects.toThrow(/one line at a time/);
    await expect(driver.send('(why?)')).rejects.toThrow(/contains "\?", which GRBL takes as a real-time command/);
    await expect(driver.send('G1 X1 ~')).rejects.toThrow(/real-time/);
    await expect(driver.send('G1 X\x01')).rejects.toThrow(/control character/);
    await expect(driver.send('G1 X1 '.repeat(30))).rejects.toThrow(/longer than GRBL's 128-byte receive buffer/);
    expect(port.written).toBe('');
  });
});

describe('GrblDriver: streaming', () => {
  /** 300 lines of 8 to 60 bytes (line end included), deterministic. */
  const program = Array.from({ length: 300 }, (_, i) => `G1 X${i}`.padEnd(7 + ((i * 37) % 53), '0'));

  it("character counting never puts more than 128 bytes in GRBL's buffer, and keeps it as full as it can", async () => {
    setup();
    const grbl = new FakeReceiver(port);
    const done = watch(driver.stream(program));
    await tick();
    let checks = 0;
    while (!done.settled) {
      // Whenever the driver has stopped writing, the next line must not have fitted.
      const { queued, inFlightBytes } = driver.backlog;
      expect(inFlightBytes).toBe(grbl.waiting);
      if (queued > 0) {
        const next = program[program.length - queued]!;
        expect(inFlightBytes + next.length + 1).toBeGreaterThan(128);
        checks += 1;
      }
      grbl.process();
      await tick();
    }
    expect(done.error).toBeUndefined();
    expect(grbl.lines).toEqual(program);
    expect(grbl.maxBuffered).toBeLessThanOrEqual(128);
    expect(grbl.maxBuffered).toBeGreaterThan(110);
    expect(checks).toBeGreaterThan(250);
  });

  it('send-and-wait has at most one line in flight', async () => {
    setup({ streaming: 'send-and-wait' });
    const grbl = new FakeReceiver(port);
    const done = watch(driver.stream(program.slice(0, 50)));
    await tick();
    while (!done.settled) {
      expect(driver.backlog.inFlight).toBe(1);
      expect(grbl.waiting).toBe(driver.backlog.inFlightBytes);
      grbl.process();
      await tick();
    }
    expect(grbl.lines).toEqual(program.slice(0, 50));
    expect(grbl.maxBuffered).toBe(Math.max(...program.slice(0, 50).map((l) => l.length + 1)));
  });

  it('sends real-time commands at once, ahead of queued lines and outside the count', async () => {
    setup();
    const grbl = new FakeReceiver(port);
    void driver.stream(program.slice(0, 40)).catch(() => undefined);
    await tick();
    const before = { ...driver.backlog };
    expect(before.queued).toBeGreaterThan(0);
    driver.realtime('feedHold');
    driver.realtime('statusReport');
    driver.realtime(0x85);
    expect(port.chunks.slice(-3).map((c) => [...c])).toEqual([[0x21], [0x3f], [0x85]]);
    expect(driver.backlog).toEqual(before);
    expect(grbl.realtime).toEqual([0x21, 0x3f, 0x85]);
    expect(() => driver.realtime(0x41)).toThrow(/not a GRBL real-time command/);
  });

  it('sends an EEPROM write alone: after the lines before it are answered, and nothing after it until it is', async () => {
    setup();
    const grbl = new FakeReceiver(port);
    const lines = ['G21', 'G90', '$110=5000', 'G1 X1 F100', 'G10 L20 P1 X0', 'G1 X2'];
    const done = watch(Promise.all(lines.map((l) => driver.send(l))));
    await tick();
    const inFlightEachStep: string[][] = [];
    while (!done.settled) {
      inFlightEachStep.push(grbl.buffer.split('\n').slice(0, -1));
      grbl.process();
      await tick();
    }
    expect(inFlightEachStep).toEqual([['G21', 'G90'], ['G90'], ['$110=5000'], ['G1 X1 F100'], ['G10 L20 P1 X0'], ['G1 X2']]);
  });

  it('stops a stream at the first error: lines not yet sent are dropped, lines already in GRBL still answer', async () => {
    setup();
    const grbl = new FakeReceiver(port, 128, (line) => (line === 'G1 X5' ? 'error:20' : 'ok'));
    const lines = Array.from({ length: 30 }, (_, i) => `G1 X${i}`);
    const done = watch(driver.stream(lines));
    await tick();
    while (grbl.process()) await tick();
    expect(done.error).toBeInstanceOf(GrblError);
    expect(done.error?.message).toBe('GRBL refused "G1 X5": error:20 Unsupported or invalid g-code command found in block.');
    // What was in GRBL's buffer when the error came ran; nothing was sent after it.
    const sentBeforeError = grbl.lines.length;
    expect(sentBeforeError).toBeGreaterThan(6);
    expect(sentBeforeError).toBeLessThan(30);
    expect(port.lines).toEqual(lines.slice(0, sentBeforeError));
    expect(driver.backlog).toEqual({ queued: 0, inFlight: 0, inFlightBytes: 0 });
  });

  it('send-and-wait sends nothing of a stream after its first error, and the driver carries on', async () => {
    setup({ streaming: 'send-and-wait' });
    const grbl = new FakeReceiver(port, 128, (line) => (line === 'X' ? 'error:1' : 'ok'));
    const lone = watch(driver.send('G21'));
    const done = watch(driver.stream(['X', 'G1 X1', 'G1 X2']));
    await tick();
    while (grbl.process()) await tick();
    expect(lone.value?.line).toBe('G21');
    expect(done.error).toMatchObject({ grblCode: 1 });
    expect(port.lines).toEqual(['G21', 'X']);
    const after = watch(driver.send('G1 X3'));
    await tick();
    grbl.process();
    await tick();
    expect(after.value?.line).toBe('G1 X3');
  });
});

describe('GrblDriver: resets, aborts and disconnects', () => {
  it('fails every line in flight and queued when GRBL restarts, then carries on', async () => {
    const events = setup();
    const lines = Array.from({ length: 20 }, (_, i) => watch(driver.send(`G1 X${i} Y${i} F1000`)));
    await tick();
    port.reply("ok\r\nok\r\n<Run|MPos:1.000,0.000,0.000|FS:1000,0>\r\n\r\nGrbl 1.1h ['$' for help]\r\n");
    await tick();
    expect(lines.slice(0, 2).every((l) => l.value)).toBe(true);
    expect(lines.slice(2).every((l) => l.error instanceof GrblReset)).toBe(true);
    expect(lines[2]!.error?.message).toBe('GRBL was reset before it answered "G1 X2 Y2 F1000"');
    expect(events.at(-1)).toEqual(['reset', '1.1h']);
    expect(driver.version).toBe('1.1h');
    expect(driver.backlog).toEqual({ queued: 0, inFlight: 0, inFlightBytes: 0 });
    const after = driver.send('G90');
    port.reply('ok\r\n');
    await expect(after).resolves.toEqual({ line: 'G90', output: [] });
  });

  it('takes a welcome message at the end of a cut-off line as a reset', async () => {
    const events = setup();
    const line = watch(driver.send('G4 P1'));
    port.reply("<Run|MPos:1.0Grbl 1.1f ['$' for help]\r\n");
    await tick();
    expect(line.error).toBeInstanceOf(GrblReset);
    expect(events).toEqual([
      ['unexpected', '<Run|MPos:1.0', 'cut off by a GRBL reset'],
      ['reset', '1.1f'],
    ]);
  });

  it('aborts keeping position: feed hold, waits for Hold:0, then soft reset, and waits for the welcome message', async () => {
    setup();
    const lines = [watch(driver.send('G1 X100 F100')), watch(driver.send('G4 P0'))];
    port.reply('ok\r\n');
    const abort = watch(driver.abort());
    await tick();
    expect([...port.written.slice(-2)].map((c) => c.charCodeAt(0))).toEqual([0x21, 0x3f]);
    port.reply('<Run|MPos:5.000,0.000,0.000|FS:100,0>\r\n<Hold:1|MPos:5.500,0.000,0.000|FS:50,0>\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(port.written).not.toContain('\x18');
    port.reply('<Hold:0|MPos:5.600,0.000,0.000|FS:0,0>\r\n');
    await tick();
    expect(port.written.at(-1)).toBe('\x18');
    // Nothing is written while GRBL restarts.
    const queued = watch(driver.send('G90'));
    await tick();
    expect(port.lines.at(-1)).toBe('G4 P0');
    expect(abort.settled).toBe(false);
    port.reply("\r\nGrbl 1.1h ['$' for help]\r\n");
    await tick();
    expect(abort.settled).toBe(true);
    expect(abort.error).toBeUndefined();
    expect(lines[1]!.error).toBeInstanceOf(GrblReset);
    expect(queued.error).toBeInstanceOf(GrblReset);
  });

  it('takes Idle for stopped only from the third report after the feed hold (earlier ones may predate it)', async () => {
    setup();
    const abort = watch(driver.abort());
    await tick();
    port.reply('<Idle|MPos:0.000,0.000,0.000>\r\n<Idle|MPos:0.000,0.000,0.000>\r\n');
    await tick();
    expect(port.written).not.toContain('\x18');
    port.reply('<Idle|MPos:0.000,0.000,0.000>\r\n');
    await tick();
    expect(port.written.at(-1)).toBe('\x18');
    port.reply("Grbl 1.1h ['$' for help]\r\n");
    await tick();
    expect(abort.settled).toBe(true);
  });

  it('fails everything and emits close when the line goes away', async () => {
    const events = setup();
    const pending = watch(driver.send('G1 X1 F100'));
    const status = watch(driver.status(5000));
    port.hangUp();
    await tick();
    expect(pending.error).toBeInstanceOf(GrblDisconnected);
    expect(pending.error).toMatchObject({ code: 'disconnected', message: 'the connection to GRBL on test closed before GRBL answered "G1 X1 F100"' });
    expect(status.error).toBeInstanceOf(GrblDisconnected);
    expect(events.filter(([type]) => type === 'close')).toHaveLength(1);
    expect(driver.isOpen).toBe(false);
    await expect(driver.send('G90')).rejects.toBeInstanceOf(GrblDisconnected);
    expect(driver.realtime('statusReport')).toBe(false);
  });

  it('reads status reports and completes them with the last WCO', async () => {
    const events = setup();
    const reports: StatusReport[] = [];
    driver.on('status', (r) => reports.push(r));
    port.reply('<Idle|MPos:10.000,5.000,1.000|FS:0,0|WCO:1.000,2.000,0.500>\r\n<Run|MPos:12.000,5.000,1.000|FS:500,0>\r\n');
    await tick();
    expect(reports.map((r) => [r.state, r.mpos, r.wpos])).toEqual([
      ['Idle', { x: 10, y: 5, z: 1 }, { x: 9, y: 3, z: 0.5 }],
      ['Run', { x: 12, y: 5, z: 1 }, { x: 11, y: 3, z: 0.5 }],
    ]);
    expect(driver.lastStatus).toBe(reports[1]);
    expect(events.filter(([t]) => t === 'status')).toHaveLength(2);
    const next = driver.status();
    port.reply('<Hold:0|MPos:12.500,5.000,1.000|FS:0,0>\r\n');
    expect(await next).toMatchObject({ state: 'Hold', subState: 0 });
  });
});

describe('GrblDriver: lost answers and silence', () => {
  const idle = '<Idle|MPos:10.000,0.000,0.000|Bf:15,128|FS:0,0>\r\n';

  /** Answer status requests with `report()` as GRBL would, every 20 ms, for as long as the test runs. */
  function reportEvery20ms(report: () => string) {
    const timer = setInterval(() => port.reply(report()), 20);
    return () => clearInterval(timer);
  }

  it('fails a line whose ok was lost once GRBL sits idle with nothing buffered, and later answers go to later lines', async () => {
    setup({ lostReplyAfterMs: 300 });
    const move = watch(driver.send('G1 X10 F1000'));
    const settle = watch(driver.send('G4 P0'));
    await tick();
    port.reply('ok\r\n'); // G1's ok; the ok of G4 P0 is lost on the wire
    const stop = reportEvery20ms(() => idle);
    try {
      await sleep(150);
      expect(settle.settled).toBe(false); // not yet: idle for less than the grace period
      await sleep(450);
    } finally {
      stop();
    }
    expect(move.value).toEqual({ line: 'G1 X10 F1000', output: [] });
    expect(settle.error).toBeInstanceOf(GrblLostReply);
    expect(settle.error).toMatchObject({
      code: 'lost-reply',
      message: expect.stringMatching(/^GRBL did not answer "G4 P0" although it has been idle with nothing left to do for 0\.\d s: an answer was lost on the serial line/),
    });
    expect(driver.backlog).toEqual({ queued: 0, inFlight: 0, inFlightBytes: 0 });
    // Resynchronised: the next ok answers the next line, not the failed one.
    const next = driver.send('G1 X20 F1000');
    await tick();
    port.reply('ok\r\n');
    await expect(next).resolves.toEqual({ line: 'G1 X20 F1000', output: [] });
  });

  it('does not take a dwell, a line GRBL is still reading, a hold or homing for a lost answer', async () => {
    setup({ lostReplyAfterMs: 200 });
    const dwell = watch(driver.send('G04 P0.6')); // GRBL reports Idle while it dwells
    let report = idle;
    const stop = reportEvery20ms(() => report);
    try {
      await sleep(500);
      expect(dwell.settled).toBe(false);
      port.reply('ok\r\n');
      await tick();
      expect(dwell.value).toBeDefined();
      const held = watch(driver.send('G1 X50 F100'));
      report = '<Hold:0|MPos:12.000,0.000,0.000|Bf:14,128|FS:0,0>\r\n';
      await sleep(400);
      expect(held.settled).toBe(false);
      report = '<Idle|MPos:12.000,0.000,0.000|Bf:15,100|FS:0,0>\r\n'; // 28 bytes still in GRBL's receive buffer
      await sleep(400);
      expect(held.settled).toBe(false);
      port.reply('ok\r\n');
      const homing = watch(driver.send('$H'));
      report = idle;
      await sleep(400);
      expect(homing.settled).toBe(false);
      port.reply('ok\r\n');
      await tick();
      expect(homing.value).toBeDefined();
    } finally {
      stop();
    }
  });

  it('asks for a status report when GRBL falls silent, and fails the line with timeout when nothing comes', async () => {
    setup({ silenceTimeoutMs: 1600 });
    const line = watch(driver.send('G1 X10 F1000'));
    await sleep(1300);
    expect(port.written).toContain('?'); // asked after a second of silence
    expect(line.settled).toBe(false);
    await sleep(700);
    expect(line.error).toBeInstanceOf(GrblTimeout);
    expect(line.error?.message).toMatch(/^GRBL on test sent nothing for \d+ s, not even a status report, while "G1 X10 F1000" awaited its answer/);
    expect(driver.backlog.inFlight).toBe(0);
  });
});
