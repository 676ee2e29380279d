// Streaming G-code to GRBL over a 115200-baud serial line: character counting against GRBL's 128-byte receive
// buffer versus send-and-wait. The program is 1,000 short zig-zag segments at a high feed on a machine configured
// fast ($110/$111 max rate, $120/$121 acceleration), so the serial line, not the motion, is the bottleneck (the
// figures show GRBL's planner never filled up). Runs the built @labrun/grbl (of the build measured: build.mjs): the GRBL simulator in this process, paced at 115200 baud (10 bits per
// byte on the wire: 11,520 bytes/s), driven through the real GrblDriver.
import { importBuilt } from './build.mjs';
import { workload } from './workload.mjs';

const BAUD = 115200;
const LINE_RATE = BAUD / 10; // bytes/s: 8 data bits + start + stop
const LINES = workload('BENCH_LINES', 1000, 200);
const ROUNDS = 3;

/** The run with the median time. */
const median = (results) => [...results].sort((a, b) => a.seconds - b.seconds)[Math.floor(results.length / 2)];

/** 1,000 segments of 0.1 mm along X, zig-zagging 0.01 mm in Y: `G1 X10.100 Y10.010`, 19 bytes with the newline. */
function program(startX) {
  return Array.from({ length: LINES }, (_, i) => `G1 X${(startX + (i + 1) * 0.1).toFixed(3)} Y${(10 + (i % 2) * 0.01).toFixed(3)}`);
}

async function stream(driver, mode, lines) {
  driver.streaming = mode;
  const bytes = lines.reduce((sum, line) => sum + line.length + 1, 0);
  // Watch GRBL's planner (the Bf field) at 10 Hz: if it never fills, motion was not what held the stream back.
  const plannerFree = [];
  const onStatus = (report) => report.buffer && plannerFree.push(report.buffer.plannerBlocksFree);
  driver.on('status', onStatus);
  const poll = setInterval(() => driver.realtime('statusReport'), 100);
  const started = performance.now();
  await driver.stream(lines);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(poll);
  driver.off('status', onStatus);
  await driver.send('G4 P0'); // let the motion finish before the next run
  // A stream shorter than one status interval (100 ms) sees no report: nothing to say then, not Infinity.
  return { bytes, seconds, bytesPerSecond: bytes / seconds, minPlannerFree: plannerFree.length > 0 ? Math.min(...plannerFree) : null };
}

export async function run() {
  const { GrblDriver, GrblSimulator } = await importBuilt('@labrun/grbl');
  const sim = new GrblSimulator({
    baudRate: BAUD,
    // A fast machine: 1000 mm/s, 1,000,000 mm/s² (the simulator brings every block to rest, so a 0.1 mm segment
    // takes 0.63 ms, less than the 1.65 ms its 19 bytes take on the wire); quick homing.
    settings: { 110: 60000, 111: 60000, 120: 1_000_000, 121: 1_000_000, 24: 5000, 25: 20000 },
  });
  const driver = new GrblDriver(sim.port, { name: 'simulator' });
  try {
    await driver.waitForStatus(() => true, { timeoutMs: 5000, pollMs: 100 });
    await driver.home();
    // GRBL's machine space is negative (homed at -299,-299,-99): G92 makes the home position work 0,0 so the
    // program's lines stay the same bytes (`G1 X10.100 Y10.010`) and inside the travel.
    await driver.stream(['G92 X0 Y0', 'G21 G90 G1 X10 Y10 F60000', 'G4 P0']);
    // Timer-paced, so the host's load shows: each mode runs ROUNDS times, alternating, and the median counts.
    const runs = { 'character-counting': [], 'send-and-wait': [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of Object.keys(runs)) {
        await driver.stream(['G1 X10 Y10', 'G4 P0']);
        runs[mode].push(await stream(driver, mode, program(10)));
      }
    }
    const counting = median(runs['character-counting']);
    const waiting = median(runs['send-and-wait']);
    const round = (v, digits) => Math.round(v * 10 ** digits) / 10 ** digits;
    const figures = (label, r) => [
      { label: `${label}: throughput`, value: Math.round(r.bytesPerSecond), unit: 'bytes/s' },
      { label: `${label}: share of the line rate (${LINE_RATE} bytes/s)`, value: round((r.bytesPerSecond / LINE_RATE) * 100, 1), unit: '%' },
      { label: `${label}: time to stream ${LINES} lines (${r.bytes} bytes)`, value: round(r.seconds, 3), unit: 's' },
      { label: `${label}: fewest free planner blocks seen (of 15)`, value: r.minPlannerFree, unit: 'blocks' },
    ];
    return {
      name: `Streaming ${LINES} lines of G-code at ${BAUD} baud`,
      description:
        `From the first byte written to the last \`ok\` received, GRBL simulator paced at the baud rate, through GrblDriver; median of ${ROUNDS} runs of each. ` +
        "Character counting keeps GRBL's 128-byte receive buffer full; send-and-wait sends a line only after the last one is answered. " +
        "GRBL's planner never filled (fewest free blocks), so motion did not hold the stream back. No broker is involved " +
        '(the driver and the simulator in one process): measured once.',
      figures: [
        ...figures('character counting', counting),
        ...figures('send-and-wait', waiting),
        { label: 'character counting speed-up over send-and-wait', value: round(waiting.seconds / counting.seconds, 2), unit: '×' },
      ],
    };
  } finally {
    await driver.close();
    sim.close();
  }
}
