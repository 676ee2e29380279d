// Resume latency: a client publishes `resume` to a paused run; how long until a subscriber sees the status
// `running`. Side by side with the floor no MQTT system can beat: a raw round trip through the same broker
// (publish → echo client → subscriber). Over at least 2,000 pause/resume cycles, per broker.
import { connect, messageLog } from './clients.mjs';
import { onEachBroker } from './brokers.mjs';
import { latencyFigures, now, percentiles, round } from './stats.mjs';
import { workload } from './workload.mjs';

const CYCLES = workload('BENCH_CYCLES', 2000, 20);
const WARMUP = Math.min(100, CYCLES);

export async function run() {
  const figures = await onEachBroker('resume', async (bench) => {
    const floor = await floorRoundTrips(bench);
    const resume = await resumeLatencies(bench);
    return [
      ...latencyFigures('resume → running', resume),
      ...latencyFigures('floor: raw MQTT round trip', floor),
      { label: 'ratio labrun / floor at p50', value: round(percentiles(resume).p50 / percentiles(floor).p50, 2), unit: '×' },
    ];
  });
  return {
    name: `Resume latency (${CYCLES.toLocaleString('en')} cycles)`,
    description:
      `A client publishes \`resume\` to a paused run; the time until a subscriber sees the status \`running\`, over ${CYCLES.toLocaleString('en')} ` +
      `pause/resume cycles after ${WARMUP} unmeasured ones. The floor is a raw MQTT round trip through the same broker, as many times ` +
      '(publish → echo client → subscriber). All QoS 1; every client role has its own connection (the echo client receives on one and ' +
      'publishes on another), with TCP_NODELAY. Resume includes the engine journaling the events with fdatasync before it publishes ' +
      '(see the journal figure).',
    figures,
  };
}

export async function floorRoundTrips({ url, tag }) {
  const ping = `bench/${tag}/ping`;
  const pong = `bench/${tag}/pong`;
  const [echoIn, echoOut, publisher, subscriber] = await Promise.all([connect(url), connect(url), connect(url), connect(url)]);
  await echoIn.subscribeAsync(ping, { qos: 1 });
  echoIn.on('message', (_topic, payload) => echoOut.publish(pong, payload, { qos: 1 }));
  await subscriber.subscribeAsync(pong, { qos: 1 });
  let arrived = () => {};
  subscriber.on('message', (_topic, payload) => arrived(now(), payload.toString()));
  const samples = [];
  for (let i = 0; i < CYCLES + WARMUP; i++) {
    const back = new Promise((resolve) => (arrived = (at, echoed) => echoed === String(i) && resolve(at)));
    const start = now();
    publisher.publish(ping, String(i), { qos: 1 });
    const at = await back;
    if (i >= WARMUP) samples.push(at - start);
  }
  await Promise.all([echoIn, echoOut, publisher, subscriber].map((c) => c.endAsync()));
  return samples;
}

async function resumeLatencies(bench) {
  await bench.startEngine();
  const runId = bench.tag;
  const [actions, subscriber] = await Promise.all([connect(bench.url), connect(bench.url)]);
  const statuses = messageLog(subscriber);
  await subscriber.subscribeAsync(`run/${runId}/status`, { qos: 1 });
  const is = (status) => (entry) => entry.body.status === status;
  // A protocol of pause commands: each resume runs into the next pause.
  const commands = Array.from({ length: CYCLES + WARMUP + 1 }, () => ({ type: 'pause' }));
  await actions.publishAsync(`run/${runId}/create`, JSON.stringify({ protocol: { schemaVersion: 1, metadata: { name: 'bench' }, commands } }), { qos: 1 });
  await actions.publishAsync(`run/${runId}/actions`, 'play', { qos: 1 });
  await statuses.until(is('paused'));
  const samples = [];
  for (let i = 0; i < CYCLES + WARMUP; i++) {
    const from = statuses.length;
    const start = now();
    actions.publish(`run/${runId}/actions`, 'resume', { qos: 1 });
    const running = await statuses.until(is('running'), from);
    if (i >= WARMUP) samples.push(running.at - start);
    await statuses.until(is('paused'), from);
  }
  await actions.publishAsync(`run/${runId}/actions`, 'stop', { qos: 1 });
  await statuses.until(is('stopped'));
  await Promise.all([actions.endAsync(), subscriber.endAsync()]);
  return samples;
}
