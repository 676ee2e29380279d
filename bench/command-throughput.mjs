// Command throughput: one run of 100,000 non-motion commands (comments), with every event journaled and
// published and the status republished as it goes; commands per second from play to `succeeded`.
import { randomUUID } from 'node:crypto';
import { connectTestClient, startBroker, startService, stopAll } from '@labrun/testkit';
import { now, round } from './stats.mjs';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 100_000);

export async function run() {
  const broker = await startBroker();
  const suffix = randomUUID().slice(0, 8);
  await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: `tp-${suffix}`, DEVICE_ID: `tp-${suffix}`, LOG_LEVEL: 'info' });
  const client = await connectTestClient(broker.url);
  const runId = `tp-${suffix}`;
  let statuses = 0;
  let events = 0;
  let done = () => {};
  const finished = new Promise((resolve) => (done = resolve));
  client.client.on('message', (topic, payload) => {
    if (topic.endsWith('/events')) events++;
    else if (payload.length > 0) {
      statuses++;
      if (JSON.parse(payload.toString()).status === 'succeeded') done();
    }
  });
  await client.client.subscribeAsync([`run/${runId}/status`, `run/${runId}/events`], { qos: 1 });
  const commands = Array.from({ length: COMMANDS }, (_, i) => ({ type: 'comment', params: { message: `step ${i}` } }));
  await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'throughput' }, commands } });
  const start = now();
  await client.publish(`run/${runId}/actions`, 'play');
  await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error('did not finish within 120 s')), 120_000))]);
  const seconds = (now() - start) / 1000;
  await client.publish(`run/${runId}/status`, '', { retain: true });
  await client.close();
  await stopAll();
  return {
    name: `Command throughput (${COMMANDS.toLocaleString('en')} comments)`,
    description: 'One run through labrun\'s broker; every event journaled (fdatasync, group-committed) and published; statuses as the engine publishes them.',
    figures: [
      { label: 'commands per second', value: Math.round(COMMANDS / seconds), unit: 'commands/s' },
      { label: 'time from play to succeeded', value: round(seconds, 2), unit: 's' },
      { label: 'events received by a subscriber', value: events, unit: 'events' },
      { label: 'status documents received by a subscriber', value: statuses, unit: 'statuses' },
    ],
  };
}
