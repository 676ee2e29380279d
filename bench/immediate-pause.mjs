// Immediate pause: a `pause` action published mid-move → the run's status says `paused`, which the engine only
// publishes once the GRBL controller has reported Hold:0 (feed hold complete). The full path: MQTT → engine →
// hardware service → GRBL driver → simulated controller, and back. Over 200 moves.
import { randomUUID } from 'node:crypto';
import { connectTestClient, startBroker, startService, stopAll } from '@labrun/testkit';
import { latencyFigures, now } from './stats.mjs';

const MOVES = Number(process.env.BENCH_MOVES ?? 200);

export async function run() {
  const broker = await startBroker();
  const suffix = randomUUID().slice(0, 8);
  const device = `pause-${suffix}`;
  await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: device, LOG_LEVEL: 'info' });
  await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: device, DEVICE_ID: device, LOG_LEVEL: 'info' });
  const client = await connectTestClient(broker.url);
  const runId = `pause-${suffix}`;
  const statuses = [];
  let wake = () => {};
  client.client.on('message', (_topic, payload) => {
    if (payload.length === 0) return;
    statuses.push({ ...JSON.parse(payload.toString()), receivedAt: now() });
    wake();
  });
  const until = (predicate, from) =>
    new Promise((resolve) => {
      const check = () => {
        const found = statuses.slice(from).find(predicate);
        if (found) {
          wake = () => {};
          resolve(found);
        }
      };
      wake = check;
      check();
    });
  await client.client.subscribeAsync(`run/${runId}/status`, { qos: 1 });
  // Back and forth over 10 mm at 3000 mm/min (0.2 s a move, at full speed after 2.5 mm); the pause lands ~120 ms in.
  const commands = [{ type: 'home' }, ...Array.from({ length: MOVES }, (_, i) => ({ type: 'move', params: { x: i % 2 === 0 ? 10 : 0, feed: 3000 } }))];
  await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'pause bench' }, commands } });
  await client.publish(`run/${runId}/actions`, 'play');
  const samples = [];
  for (let i = 1; i <= MOVES; i++) {
    const started = await until((s) => s.status === 'running' && s.current?.index === i, 0);
    await new Promise((r) => setTimeout(r, Math.max(0, 120 - (now() - started.receivedAt))));
    const from = statuses.length;
    const t = now();
    client.client.publish(`run/${runId}/actions`, 'pause', { qos: 1 });
    const paused = await until((s) => s.status === 'paused', from);
    samples.push(paused.receivedAt - t);
    client.client.publish(`run/${runId}/actions`, 'resume', { qos: 1 });
  }
  await until((s) => s.status === 'succeeded', 0);
  await client.close();
  await stopAll();
  return {
    name: `Immediate pause (${MOVES} moves)`,
    description:
      'From publishing `pause` ~120 ms into a 10 mm move at 3000 mm/min to the status `paused` (published once GRBL reported Hold:0). ' +
      'Includes the deceleration (50 mm/s at the simulator\'s 500 mm/s²: 100 ms) and the driver\'s status polling (every 100 ms while moving).',
    figures: latencyFigures('pause → paused (Hold:0)', samples),
  };
}
