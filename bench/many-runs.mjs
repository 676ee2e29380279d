// Many runs at once: 1,000 runs paused in one engine; resume them all at once and time until every status says
// `running`; and the engine's resident memory with the 1,000 runs live.
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { connectTestClient, startBroker, startService, stopAll } from '@labrun/testkit';
import { now, round } from './stats.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

export async function run() {
  const broker = await startBroker();
  const suffix = randomUUID().slice(0, 8);
  const engine = await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: `many-${suffix}`, DEVICE_ID: `many-${suffix}`, LOG_LEVEL: 'info' });
  const client = await connectTestClient(broker.url);
  const latest = new Map();
  let changed = () => {};
  client.client.on('message', (topic, payload) => {
    if (payload.length === 0) return;
    latest.set(topic.split('/')[1], JSON.parse(payload.toString()).status);
    changed();
  });
  await client.client.subscribeAsync('run/+/status', { qos: 1 });
  const until = (predicate) => new Promise((resolve) => {
    changed = () => predicate() && resolve();
    changed();
  });
  const ids = Array.from({ length: RUNS }, (_, i) => `many-${i}`);
  const protocol = { schemaVersion: 1, metadata: { name: 'many' }, commands: [{ type: 'pause', params: { message: 'wait' } }, { type: 'comment', params: { message: 'after' } }] };
  const rssBefore = rssMiB(engine.proc.pid);
  for (const id of ids) client.client.publish(`run/${id}/create`, JSON.stringify({ protocol }), { qos: 1 });
  for (const id of ids) client.client.publish(`run/${id}/actions`, 'play', { qos: 1 });
  await until(() => ids.every((id) => latest.get(id) === 'paused'));
  const rss = rssMiB(engine.proc.pid);
  const start = now();
  for (const id of ids) client.client.publish(`run/${id}/actions`, 'resume', { qos: 1 });
  // After resume a run is `running`, then (its comment done) `succeeded`: either means the resume took effect.
  await until(() => ids.every((id) => latest.get(id) === 'running' || latest.get(id) === 'succeeded'));
  const elapsed = now() - start;
  for (const id of ids) client.client.publish(`run/${id}/status`, '', { qos: 1, retain: true });
  await client.close();
  await stopAll();
  return {
    name: `Many runs (${RUNS} paused at once)`,
    description: 'Through labrun\'s broker. Resume time: from the first resume published to the last status showing the run running (or already finished).',
    figures: [
      { label: `resume all ${RUNS}: time until every status says running`, value: round(elapsed, 1), unit: 'ms' },
      { label: `engine resident memory with ${RUNS} runs live`, value: round(rss, 1), unit: 'MiB' },
      { label: 'engine resident memory before the runs', value: round(rssBefore, 1), unit: 'MiB' },
    ],
  };
}
