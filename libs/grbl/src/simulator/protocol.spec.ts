// The simulator's serial protocol, byte for byte: start-up, `ok`/`error:N`, `$` commands, status report fields,
// the 128-byte receive buffer and the 15-block planner. Fake timers; baud rate 0 unless timing is the point.
import { describe, expect, it } from 'vitest';
import { advance, BANNER, exchange, later, sim, start, term, UNLOCK_HINT, useSimulatorClock } from './session.spec-helpers.js';

useSimulatorClock();

describe('start-up and soft reset', () => {
  it('greets with the banner and, homing being enabled, starts in Alarm until $X unlocks it', async () => {
    await start();
    expect(term.lines).toEqual([...BANNER, UNLOCK_HINT]);
    expect(await exchange('?')).toEqual(['<Alarm|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('G0 X1\n')).toEqual(['error:9']);
    expect(await exchange('$X\n')).toEqual(['[MSG:Caution: Unlocked]', 'ok']);
    expect(await exchange('?')).toEqual(['<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|Ov:100,100,100>']);
    expect(await exchange('G0 X1\n')).toEqual(['ok']);
  });

  it('starts Idle when homing is disabled ($22=0)', async () => {
    await start({ settings: { 22: 0 } });
    expect(term.lines).toEqual(BANNER);
    expect(term.text.startsWith("\r\nGrbl 1.1h ['$' for help]\r\n")).toBe(true);
    expect(await exchange('?')).toEqual(['<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
  });

  it('on 0x18 prints the banner again, forgets a half-received line, and stays Idle if it was Idle', async () => {
    await start();
    await exchange('$X\n');
    expect(await exchange('G0 X')).toEqual([]);
    expect(await exchange([0x18])).toEqual(BANNER);
    expect(await exchange('\n')).toEqual(['ok']); // the half line is gone: only an empty line is left
    expect(sim.state.machine).toBe('Idle');
  });

  it('stays in Alarm across a reset while locked', async () => {
    await start();
    expect(await exchange([0x18])).toEqual([...BANNER, UNLOCK_HINT]);
    expect(sim.state.machine).toBe('Alarm');
  });
});

describe('the line protocol', () => {
  it('answers every line with ok or error:N, GRBL numbering', async () => {
    await start({ settings: { 22: 0 } });
    const cases: Array<[string, string]> = [
      ['', 'ok'],
      ['(only a comment)', 'ok'],
      ['; another comment', 'ok'],
      ['g21 g90 g94 g17 (lower case is fine)', 'ok'],
      ['G1 X2', 'error:22'], // no feed rate yet
      ['X', 'error:2'],
      ['1', 'error:1'],
      ['G5', 'error:20'],
      ['M7', 'error:20'], // no mist coolant in a default build
      ['G0 G1 X1', 'error:21'],
      ['G1.5 X1', 'error:23'],
      ['G0 X1 X2', 'error:25'],
      ['G1 F-5 X1', 'error:4'],
      ['G4', 'error:28'],
      ['G80 X1', 'error:31'],
      ['G0 P1', 'error:36'],
      ['G53 G80', 'error:30'],
      ['T256', 'error:38'],
      ['N10000001 G0', 'error:27'],
      ['$Q', 'error:2'],
      ['$GX', 'error:3'],
      ['$10', 'error:3'],
      ['$300=1', 'error:3'],
      ['$1=-1', 'error:4'],
      ['$0=2', 'error:6'],
      ['$20=1', 'error:10'], // soft limits need homing
      ['$H', 'error:5'], // homing is disabled here
      ['$J=X1', 'error:22'],
      ['$J=G1X1F100', 'error:16'],
      ['$JX1', 'error:3'],
      ['$X', 'ok'],
    ];
    term.send(cases.map(([line]) => `${line}\n`).join(''));
    await advance(0);
    expect(term.answers).toEqual(cases.map(([, answer]) => answer));
  });

  it('ends a line at \\n or \\r, so \\r\\n is a line and an empty one', async () => {
    await start();
    expect(await exchange('$G\r\n')).toEqual(['[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0]', 'ok', 'ok']);
  });

  it('refuses a line of more than 80 characters with error:11', async () => {
    await start({ settings: { 22: 0 } });
    expect(await exchange(`G0X${'1'.repeat(79)}\n`)).toEqual(['error:11']);
    expect(await exchange(`(${'long comments do not count '.repeat(5)})G4P0\n`)).toEqual(['ok']);
  });

  it('keeps the modal state $G reports', async () => {
    await start({ settings: { 22: 0 } });
    expect(await exchange('G91 G1 F1500 S300 T2 M8\n$G\n')).toEqual(['ok', '[GC:G1 G54 G17 G21 G91 G94 M5 M8 T2 F1500 S300]', 'ok']);
    expect(await exchange('M2\n$G\n')).toEqual(['[MSG:Pgm End]', 'ok', '[GC:G1 G54 G17 G21 G90 G94 M5 M9 T2 F1500 S300]', 'ok']);
  });
});

describe('$ commands', () => {
  it('prints help, build info and parameters as GRBL 1.1h does', async () => {
    await start();
    expect(await exchange('$\n')).toEqual(['[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]', 'ok']);
    expect(await exchange('$I\n')).toEqual(['[VER:1.1h.20190830:]', '[OPT:V+,15,128]', 'ok']);
    expect(await exchange('$#\n')).toEqual([
      ...['G54', 'G55', 'G56', 'G57', 'G58', 'G59', 'G28', 'G30', 'G92'].map((name) => `[${name}:0.000,0.000,0.000]`),
      '[TLO:0.000]',
      '[PRB:0.000,0.000,0.000:0]',
      'ok',
    ]);
    expect(await exchange('$N\n')).toEqual(['$N0=', '$N1=', 'ok']);
  });

  it('lists the settings ($$) and stores $N=value', async () => {
    await start();
    const listing = await exchange('$$\n');
    expect(listing.slice(0, 8)).toEqual(['$0=10', '$1=25', '$2=0', '$3=0', '$4=0', '$5=0', '$6=0', '$10=3']);
    expect(listing).toEqual(expect.arrayContaining(['$11=0.010', '$21=1', '$22=1', '$23=7', '$30=1000', '$110=10000.000', '$120=500.000', '$130=300.000', '$132=100.000']));
    expect(listing).toHaveLength(35);
    expect(listing.at(-1)).toBe('ok');
    expect(await exchange('$110=2500\n$26=300\n$$\n')).toEqual(expect.arrayContaining(['$110=2500.000', '$26=44'])); // a byte, as in EEPROM
  });

  it('check mode ($C) parses without moving, and leaving it resets', async () => {
    await start();
    await exchange('$X\n');
    expect(await exchange('$C\n')).toEqual(['[MSG:Enabled]', 'ok']);
    expect(await exchange('G1 X10 F100\nG4 P5\n?')).toEqual(['ok', 'ok', '<Check|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('G2 X1\n')).toEqual(['error:20']);
    expect(await exchange('$C\n')).toEqual(['[MSG:Disabled]', 'ok', ...BANNER]);
    expect(sim.state.machine).toBe('Idle');
  });

  it('sleeps on $SLP until a reset, then is in Alarm', async () => {
    await start();
    expect(await exchange('$SLP\n?')).toEqual(['ok', '[MSG:Sleeping]', '<Sleep|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('$X\n')).toEqual([]); // asleep: lines wait
    expect(await exchange([0x18])).toEqual([...BANNER, UNLOCK_HINT]);
  });

  it('stores a startup line ($N0=) and runs it after every reset that is not in Alarm', async () => {
    await start({ settings: { 22: 0 } });
    expect(await exchange('$N0=G91 G1 F100\n$N\n')).toEqual(['ok', '$N0=G91G1F100', '$N1=', 'ok']);
    expect(await exchange([0x18])).toEqual([...BANNER, '>G91G1F100:ok']);
    expect(await exchange('$G\n')).toEqual(['[GC:G1 G54 G17 G21 G91 G94 M5 M9 T0 F100 S0]', 'ok']);
  });
});

describe('work offsets', () => {
  const wco = async () => {
    const [report] = await exchange('?');
    return /\|WCO:([^|>]*)/.exec(report!)?.[1];
  };

  it('keeps G10 L2/L20, G92 and G54…G59 as GRBL does: WCO in the next report after a change, moves in work coordinates, G53 in machine ones', async () => {
    await start({ settings: { 22: 0 } });
    expect(await wco()).toBe('0.000,0.000,0.000');
    expect(await exchange('G10 L2 P1 X10 Y-5\n')).toEqual(['ok']);
    expect(await wco()).toBe('10.000,-5.000,0.000'); // at once, not 10 reports later
    expect(await wco()).toBeUndefined();
    await exchange('G1 X5 F6000\n', 1000);
    expect(sim.state.position).toEqual({ x: 15, y: 0, z: 0 });
    await exchange('G53 G1 X5\n', 1000);
    expect(sim.state.position).toEqual({ x: 5, y: 0, z: 0 });
    expect(await exchange('G92 X0\n')).toEqual(['ok']); // here is now work X0: G92 = 5 − 10 − 0
    expect(await wco()).toBe('5.000,-5.000,0.000');
    expect(await exchange('G92.1\n')).toEqual(['ok']);
    expect(await wco()).toBe('10.000,-5.000,0.000');
    expect(await exchange('G55\nG10 L20 P0 X1\n')).toEqual(['ok', 'ok']); // G55 such that here reads X1
    expect(await wco()).toBe('4.000,0.000,0.000');
    expect(await exchange('$#\n')).toEqual(expect.arrayContaining(['[G54:10.000,-5.000,0.000]', '[G55:4.000,0.000,0.000]', '[G92:0.000,0.000,0.000]']));
    expect((await exchange('$G\n'))[0]).toMatch(/^\[GC:G1 G55 /);
    await exchange('G92 Y1\n');
    // A reset brings back G54 and clears G92; the stored G54…G59 offsets stay (GRBL keeps them in EEPROM).
    await exchange([0x18]);
    expect(await wco()).toBe('10.000,-5.000,0.000');
  });

  it("answers malformed offset commands with GRBL's errors", async () => {
    await start({ settings: { 22: 0 } });
    const cases: Array<[string, string]> = [
      ['G10 L3 P1 X1', 'error:20'],
      ['G10 L2 X1', 'error:28'],
      ['G10 L2 P7 X1', 'error:29'],
      ['G10 L2 P1', 'error:26'],
      ['G92', 'error:26'],
      ['G59.1', 'error:29'],
      ['G10 L2 P1 G1 X1 F100', 'error:24'],
      ['L2', 'error:36'],
    ];
    term.send(cases.map(([line]) => `${line}\n`).join(''));
    await advance(0);
    expect(term.answers).toEqual(cases.map(([, answer]) => answer));
  });
});

describe('status reports', () => {
  it('carry WCO in the first report after a reset, the overrides in the second, then every tenth while idle', async () => {
    await start({ settings: { 22: 0 } });
    const reports: string[] = [];
    for (let i = 0; i < 22; i++) reports.push(...(await exchange('?')));
    const withWco = reports.flatMap((r, i) => (r.includes('|WCO:') ? [i + 1] : []));
    const withOverrides = reports.flatMap((r, i) => (r.includes('|Ov:') ? [i + 1] : []));
    expect(withWco).toEqual([1, 11, 21]);
    expect(withOverrides).toEqual([2, 12, 22]);
    expect(reports[2]).toBe('<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>');
  });

  it('follow $10: Bf only with bit 1, WPos instead of MPos without bit 0', async () => {
    await start({ settings: { 22: 0 } });
    expect(await exchange('$10=1\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('$10=0\n?')).toEqual(['ok', '<Idle|WPos:0.000,0.000,0.000|FS:0,0|Ov:100,100,100>']);
  });

  it('show the spindle and coolant: speed in FS, and A: with the overrides', async () => {
    await start({ settings: { 22: 0 } });
    expect(await exchange('?')).toEqual(['<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('M3 S800 M8\n?')).toEqual(['ok', '<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,800|Ov:100,100,100|A:SF>']);
  });

  it('answer ? at once even mid-line, as real-time commands never enter the line buffer', async () => {
    await start();
    // The main loop has already taken "$I" out of the receive buffer: it waits for the end of the line.
    expect(await exchange('$I?')).toEqual(['<Alarm|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0|WCO:0.000,0.000,0.000>']);
    expect(await exchange('\n')).toEqual(['[VER:1.1h.20190830:]', '[OPT:V+,15,128]', 'ok']);
  });
});

describe('the serial receive buffer', () => {
  it('holds 128 characters while the planner is full; bytes beyond are dropped', async () => {
    await start();
    await exchange('$X\n');
    // 16 slow moves: 15 fill the planner, the 16th waits inside the parser.
    const moves = Array.from({ length: 16 }, (_, i) => `G1X${i + 1}F60\n`).join('');
    expect((await exchange(moves)).filter((l) => l === 'ok')).toHaveLength(15);
    expect((await exchange('?'))[0]).toMatch(/^<Run\|MPos:[\d.,]+\|Bf:0,128\|/);
    // 13 lines of 10 characters: 130 bytes; the last two ("0\n") do not fit.
    const more = Array.from({ length: 13 }, (_, i) => `G1X${20 + i}F600\n`).join('');
    expect(more).toHaveLength(130);
    await exchange(more);
    expect((await exchange('?'))[0]).toMatch(/\|Bf:0,0\|/);
    // Once everything has run, the 13th line, cut short, runs into the next one sent: two G1 in one block.
    await advance(30_000);
    expect(sim.state.machine).toBe('Idle');
    expect(await exchange('G1X40F600\n')).toEqual(['error:21']);
    expect(term.answers.filter((a) => a === 'ok')).toHaveLength(1 + 16 + 12);
  });

  it('loses nothing for a sender that counts characters', async () => {
    await start();
    await exchange('$X\n');
    const lines = Array.from({ length: 60 }, (_, i) => `G1 X${(i % 10) * 3 + 1} Y${i} F3000`);
    const inFlight: number[] = [];
    let next = 0;
    let answered = 0;
    while (answered < lines.length) {
      // Send while the unanswered characters stay within the 128-byte buffer.
      while (next < lines.length && inFlight.reduce((a, b) => a + b, 0) + lines[next]!.length + 1 <= 128) {
        term.send(`${lines[next]}\n`);
        inFlight.push(lines[next]!.length + 1);
        next++;
      }
      await advance(50);
      const nowAnswered = term.answers.length - 1; // minus the $X
      inFlight.splice(0, nowAnswered - answered);
      answered = nowAnswered;
    }
    expect(term.answers.slice(1).every((a) => a === 'ok')).toBe(true);
    await advance(10_000);
    expect(sim.state).toEqual({ machine: 'Idle', position: { x: 28, y: 59, z: 0 } });
  });
});

describe('the planner', () => {
  it('takes 15 blocks; the line after them is answered when the first block is done', async () => {
    await start();
    await exchange('$X\n');
    // 1 mm at 600 mm/min with 500 mm/s² acceleration: 0.12 s per block.
    const lines = Array.from({ length: 20 }, (_, i) => `G1X${i + 1}F600\n`);
    expect(await exchange(lines.join(''))).toEqual(Array(15).fill('ok'));
    const waiting = lines.slice(16).join('').length; // the 16th is inside the parser, 17-20 in the buffer
    expect((await exchange('?'))[0]).toContain(`|Bf:0,${128 - waiting}|`);
    expect(await later(119)).toEqual([]);
    expect(await later(2)).toEqual(['ok']);
  });
});
