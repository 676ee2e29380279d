// Resume latency: a client publishes `resume` to a paused run; how long until a subscriber sees the status
// `running`. Side by side with the floor no MQTT system can beat: a raw round trip through the same broker
// (publish → echo client → subscriber). Over at least 2,000 pause/resume cycles, per broker.
import { randomUUID } from 'node:crypto';
import { connectTestClient, startService, stopAll } from '@labrun/testkit';
import { brokers } from './brokers.mjs';
import { latencyFigures, now, percentiles, round } from './stats.mjs';

const WARMUP = 100;

export async function run() {
  const figures = [];
  for (const broker of await brokers()) {
    const url = await broker.url();
    const floor = await floorRoundTrips(url, broker.cycles);
    const resume = await resumeLatencies(url, broker.cycles);
    figures.push(...latencyFigures(`${broker.name}: resume → running (${broker.cycles} cycles)`, resume));
    figures.push(...latencyFigures(`${broker.name}: floor (raw MQTT round trip, ${broker.cycles} cycles)`, floor));
    figures.push({ label: `${broker.name}: ratio labrun / floor at p50`, value: round(percentiles(resume).p50 / percentiles(floor).p50, 2), unit: '×' });
    await stopAll();
  }
  return {
    name: 'Resume latency',
    description:
      'A client publishes `resume` to a paused run; the time until a subscriber sees the status `running`. The floor is a raw MQTT round trip ' +
      'through the same broker (publish → echo client → subscriber). Resume includes the engine journaling the events with fdatasync before ' +
      'it publishes (see the journal figure).',
    figures,
  };
}

async function floorRoundTrips(url, cycles) {
  const topic = `bench/${randomUUID()}`;
  const echo = await connectTestClient(url);
  await echo.client.subscribeAsync(`${topic}/ping`, { qos: 1 });
  echo.client.on('message', (_t, payload) => echo.client.publish(`${topic}/pong`, payload, { qos: 1 }));
  const probe = await connectTestClient(url);
  await probe.client.subscribeAsync(`${topic}/pong`, { qos: 1 });
  const samples = [];
  for (let i = 0; i < cycles + WARMUP; i++) {
    const start = now();
    await new Promise((resolve) => {
      probe.client.once('message', resolve);
      probe.client.publish(`${topic}/ping`, String(i), { qos: 1 });
    });
    if (i >= WARMUP) samples.push(now() - start);
  }
  await echo.close();
  await probe.close();
  return samples;
}

async function resumeLatencies(url, cycles) {
  const suffix = randomUUID().slice(0, 8);
  const engine = await startService('engine', { MQTT_URL: url, ENGINE_ID: `bench-${suffix}`, DEVICE_ID: `bench-${suffix}`, LOG_LEVEL: 'info' });
  const runId = `bench-${suffix}`;
  const client = await connectTestClient(url);
  const commands = Array.from({ length: cycles + WARMUP + 1 }, () => ({ type: 'pause' }));
  await client.client.subscribeAsync(`run/${runId}/status`, { qos: 1 });
  // Every status received, in order; a wait looks from a given position on, so none is missed however they bunch up.
  const statuses = [];
  let wake = () => {};
  client.client.on('message', (_t, payload) => {
    if (payload.length === 0) return;
    statuses.push({ status: JSON.parse(payload.toString()).status, at: now() });
    wake();
  });
  const until = (status, from) =>
    new Promise((resolve) => {
      const check = () => {
        const i = statuses.findIndex((s, index) => index >= from && s.status === status);
        if (i >= 0) {
          wake = () => {};
          resolve(statuses[i]);
        }
      };
      wake = check;
      check();
    });
  await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'bench' }, commands } });
  await client.publish(`run/${runId}/actions`, 'play');
  await until('paused', 0);
  const samples = [];
  for (let i = 0; i < cycles + WARMUP; i++) {
    const from = statuses.length;
    const start = now();
    client.client.publish(`run/${runId}/actions`, 'resume', { qos: 1 });
    const running = await until('running', from);
    if (i >= WARMUP) samples.push(running.at - start);
    await until('paused', from);
  }
  await client.publish(`run/${runId}/actions`, 'stop');
  // Leave nothing retained on a shared broker: stop the engine (it announces online=false), then clear.
  await engine.stop();
  for (const topic of [`run/${runId}/status`, `run/${runId}/commands`, `engine/bench-${suffix}/online`]) await client.publish(topic, '', { retain: true });
  await client.close();
  return samples;
}
