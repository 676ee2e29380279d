// Immediate pause: a `pause` action published mid-move, at full speed → the run's status says `paused`, which the
// engine only publishes once the GRBL controller has reported Hold:0 (feed hold complete). The full path: MQTT →
// engine → hardware service → GRBL driver → simulated controller, and back. Over 200 moves, per broker.
import { connect, messageLog } from './clients.mjs';
import { onEachBroker } from './brokers.mjs';
import { latencyFigures, now, round } from './stats.mjs';
import { workload } from './workload.mjs';

// The token workload has a few moves, not two: on a loaded machine (CI runs suites side by side) a pause can miss
// the window in which the move cruises, and a run in which every pause missed it measures nothing.
const MOVES = workload('BENCH_MOVES', 200, 8);
// Back and forth over 8 mm at 3000 mm/min (50 mm/s). At the simulator's 500 mm/s² a move is at full speed after
// 100 ms and 2.5 mm and starts slowing down 2.5 mm before its end, so it cruises from 2.5 to 5.5 mm (100-160 ms in).
// The pause is published 130 ms after the status says the move started, to land in the middle of that.
// Short moves keep the bench short: after the resume only the rest of the move is left (about 1.5 mm).
const LENGTH_MM = 8;
const FEED = 3000;
const FULL_SPEED_MM = 2.5; // (50 mm/s)² / (2 × 500 mm/s²): to reach full speed, and to stop from it
const PAUSE_AFTER_MS = 130;

export async function run() {
  const figures = await onEachBroker('pause', async (bench) => {
    await bench.startHardware();
    await bench.startEngine();
    const runId = bench.tag;
    const [actions, observer] = await Promise.all([connect(bench.url), connect(bench.url)]);
    const log = messageLog(observer);
    // The hardware's answer to the engine's hold request says where the machine stopped: that shows whether
    // the pause found the move at full speed, and mid-move.
    const topic = { status: `run/${runId}/status`, requests: `hw/${bench.deviceId}/requests`, replies: `engine/${bench.engineId}/replies` };
    await observer.subscribeAsync(Object.fromEntries(Object.values(topic).map((t) => [t, { qos: 1 }])));
    const isStatus = (entry) => entry.topic === topic.status;
    // Home, go to x=0, then the measured moves (command 2 on): 0 → 8 → 0 …
    const target = (i) => (i % 2 === 0 ? LENGTH_MM : 0);
    const commands = [{ type: 'home' }, { type: 'move', params: { x: 0, feed: FEED } }, ...Array.from({ length: MOVES }, (_, i) => ({ type: 'move', params: { x: target(i), feed: FEED } }))];
    await actions.publishAsync(`run/${runId}/create`, JSON.stringify({ protocol: { schemaVersion: 1, metadata: { name: 'pause bench' }, commands } }), { qos: 1 });
    await actions.publishAsync(`run/${runId}/actions`, 'play', { qos: 1 });
    const samples = [];
    for (let i = 0; i < MOVES; i++) {
      const index = i + 2;
      // From the start of the log: a move's first `running` is the only one with its index.
      const started = await log.until((e) => isStatus(e) && e.body.status === 'running' && e.body.current?.index === index, 0, 30_000);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, PAUSE_AFTER_MS - (now() - started.at))));
      const from = log.length;
      const t = now();
      actions.publish(`run/${runId}/actions`, 'pause', { qos: 1 });
      const paused = await log.until((e) => isStatus(e) && e.body.status === 'paused', from);
      // The engine asks for the hold before it publishes `paused`, on the same connection: the request is here by now
      // (unless the move had ended and there was nothing to hold).
      const hold = log.since(from).find((e) => e.topic === topic.requests && e.body.op === 'hold');
      const reply = hold && (await log.until((e) => e.topic === topic.replies && e.body.id === hold.body.id, from));
      const travelled = reply?.body.ok ? round(Math.abs(reply.body.state.position.x - (i === 0 ? 0 : target(i - 1))), 3) : null;
      // Held after at least full speed's run-up and stop (5 mm), and short of the end: paused at full speed, mid-move.
      if (travelled !== null && travelled >= 2 * FULL_SPEED_MM - 0.05 && travelled < LENGTH_MM - 0.05) samples.push(paused.at - t);
      else console.warn(`  [bench] move ${index}: held ${travelled ?? '(no hold)'} mm into the move: not at full speed mid-move, left out`);
      actions.publish(`run/${runId}/actions`, 'resume', { qos: 1 });
    }
    await log.until((e) => isStatus(e) && e.body.status === 'succeeded', 0, 30_000);
    await Promise.all([actions.endAsync(), observer.endAsync()]);
    if (samples.length === 0) throw new Error(`not one of ${MOVES} pauses found its move at full speed`);
    return [...latencyFigures('pause → paused (Hold:0)', samples), { label: 'pauses that found the move at full speed (the others are left out)', value: samples.length, unit: `of ${MOVES}` }];
  });
  return {
    name: `Immediate pause (${MOVES} moves)`,
    description:
      `From publishing \`pause\` ${PAUSE_AFTER_MS} ms after a move of ${LENGTH_MM} mm at ${FEED} mm/min started (by its status) to the status \`paused\` ` +
      "(published once GRBL reported Hold:0). Includes the deceleration (50 mm/s at the simulator's 500 mm/s²: 100 ms) and the " +
      "driver's status polling (every 50 ms while holding). A pause counts only if the machine held at least 5 mm into the move " +
      "(2.5 mm to reach full speed, 2.5 mm to stop from it) and short of its end, as the hold request's reply says.",
    figures,
  };
}
