// Wait-for latency: a protocol waits for another instrument's message (wait-for); the instrument publishes the
// matching message; how long until a subscriber sees the command succeeded (the event with its result). Side by side
// with the floor no MQTT system can beat: a raw round trip through the same broker (publish → echo client →
// subscriber), measured in the same run. Over at least 2,000 waits, per broker.
import { connect, messageLog } from './clients.mjs';
import { onEachBroker } from './brokers.mjs';
import { latencyFigures, now, percentiles, round } from './stats.mjs';
import { workload } from './workload.mjs';
import { floorRoundTrips } from './resume-latency.mjs';

const WAITS = workload('BENCH_CYCLES', 2000, 20);
const WARMUP = Math.min(100, WAITS);

export async function run() {
  const figures = await onEachBroker('wait-for', async (bench) => {
    const floor = await floorRoundTrips(bench);
    const waits = await waitLatencies(bench);
    return [
      ...latencyFigures('matching publish → command.succeeded', waits),
      ...latencyFigures('floor: raw MQTT round trip', floor),
      { label: 'ratio labrun / floor at p50', value: round(percentiles(waits).p50 / percentiles(floor).p50, 2), unit: '×' },
      { label: 'ratio labrun / floor at p99', value: round(percentiles(waits).p99 / percentiles(floor).p99, 2), unit: '×' },
    ];
  });
  return {
    name: `Wait-for latency (${WAITS.toLocaleString('en')} waits)`,
    description:
      `A protocol of ${WAITS.toLocaleString('en')} wait-for commands, each for a message on lab/bench/<broker>/answer whose \`n\` field is its own ` +
      `number; a stand-in instrument publishes the matching message once the run waits (status paused, source external) and the time ` +
      `until a subscriber sees that command's \`command.succeeded\` event (with the message as its result) is measured, after ${WARMUP} ` +
      'unmeasured ones. The floor is a raw MQTT round trip through the same broker, as many times. All QoS 1, one connection per client ' +
      'role, TCP_NODELAY. It includes the engine matching the message, journaling the event with fdatasync, and publishing it.',
    figures,
  };
}

async function waitLatencies(bench) {
  await bench.startEngine();
  const runId = bench.tag;
  const answer = `lab/bench/${bench.tag}/answer`;
  const [control, instrument, subscriber] = await Promise.all([connect(bench.url), connect(bench.url), connect(bench.url)]);
  const log = messageLog(subscriber);
  await subscriber.subscribeAsync([`run/${runId}/status`, `run/${runId}/events`], { qos: 1 });
  const total = WAITS + WARMUP;
  const commands = Array.from({ length: total }, (_, n) => ({ type: 'wait-for', params: { topic: answer, field: 'n', equals: n } }));
  await control.publishAsync(`run/${runId}/create`, JSON.stringify({ protocol: { schemaVersion: 1, metadata: { name: 'bench' }, commands } }), { qos: 1 });
  await control.publishAsync(`run/${runId}/actions`, 'play', { qos: 1 });
  const waiting = (n) => (entry) => entry.topic.endsWith('/status') && entry.body.status === 'paused' && entry.body.current?.index === n;
  const succeeded = (n) => (entry) => entry.topic.endsWith('/events') && entry.body.type === 'command.succeeded' && entry.body.index === n;
  const samples = [];
  let mark = 0;
  for (let n = 0; n < total; n++) {
    await log.until(waiting(n), mark);
    const from = log.length;
    mark = from;
    const start = now();
    instrument.publish(answer, JSON.stringify({ n, od: 0.42 }), { qos: 1 });
    const done = await log.until(succeeded(n), from);
    if (n >= WARMUP) samples.push(done.at - start);
  }
  await log.until((entry) => entry.topic.endsWith('/status') && entry.body.status === 'succeeded');
  await Promise.all([control.endAsync(), instrument.endAsync(), subscriber.endAsync()]);
  return samples;
}
