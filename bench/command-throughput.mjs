// Command throughput: one run of 100,000 non-motion commands (comments), with every event journaled and
// published and the status republished as it goes; commands per second from play to `succeeded`, also as a share of
// the broker floor (the raw QoS 1 message rate) measured on the same broker just before. Per broker.
import { brokerFloor, FLOOR_DESCRIPTION } from './broker-floor.mjs';
import { connect, within } from './clients.mjs';
import { onEachBroker } from './brokers.mjs';
import { now, round } from './stats.mjs';
import { workload } from './workload.mjs';

const COMMANDS = workload('BENCH_COMMANDS', 100_000, 500);

export async function run() {
  const figures = await onEachBroker('tp', async (bench) => {
    // Before the engine starts, so that nothing else is using the broker or the cores.
    const floor = await brokerFloor(bench);
    await bench.startEngine();
    const runId = bench.tag;
    const [publisher, statusSubscriber, eventSubscriber] = await Promise.all([connect(bench.url), connect(bench.url), connect(bench.url)]);
    let statuses = 0;
    let events = 0;
    let lastEventAt = 0;
    let succeeded = () => {};
    const finished = new Promise((resolve) => (succeeded = resolve));
    statusSubscriber.on('message', (_topic, payload) => {
      if (payload.length === 0) return;
      const at = now();
      statuses++;
      const status = JSON.parse(payload.toString());
      if (status.status === 'succeeded') succeeded({ at, seq: status.seq });
    });
    eventSubscriber.on('message', () => {
      events++;
      lastEventAt = now();
    });
    await statusSubscriber.subscribeAsync(`run/${runId}/status`, { qos: 1 });
    await eventSubscriber.subscribeAsync(`run/${runId}/events`, { qos: 1 });
    const commands = Array.from({ length: COMMANDS }, (_, i) => ({ type: 'comment', params: { message: `step ${i}` } }));
    await publisher.publishAsync(`run/${runId}/create`, JSON.stringify({ protocol: { schemaVersion: 1, metadata: { name: 'throughput' }, commands } }), { qos: 1 });
    const start = now();
    await publisher.publishAsync(`run/${runId}/actions`, 'play', { qos: 1 });
    const last = await within(finished, 60_000, `${COMMANDS} commands`);
    // The events travel on their own connection: count them until none has come for half a second.
    while (now() - lastEventAt < 500) await new Promise((resolve) => setTimeout(resolve, 100));
    await Promise.all([publisher.endAsync(), statusSubscriber.endAsync(), eventSubscriber.endAsync()]);
    const seconds = (last.at - start) / 1000;
    const share = (perSecond) => round((perSecond / floor.rate) * 100, 1);
    return [
      { label: 'commands per second', value: Math.round(COMMANDS / seconds), unit: 'commands/s' },
      { label: 'commands per second as a share of the broker floor', value: share(COMMANDS / seconds), unit: '%' },
      { label: 'events the engine published per second', value: Math.round(last.seq / seconds), unit: 'events/s' },
      { label: 'events per second as a share of the broker floor', value: share(last.seq / seconds), unit: '%' },
      { label: 'broker floor: QoS 1 messages per second, one publisher to one subscriber', value: floor.rate, unit: 'messages/s' },
      { label: 'time from play to succeeded', value: round(seconds, 2), unit: 's' },
      { label: "events the engine published (the last status's seq)", value: last.seq, unit: 'events' },
      { label: 'events received by a subscriber (QoS 1)', value: events, unit: 'events' },
      { label: 'status documents received by a subscriber', value: statuses, unit: 'statuses' },
    ];
  });
  return {
    name: `Command throughput (${COMMANDS.toLocaleString('en')} comments)`,
    description:
      'One run; every event journaled (fdatasync, group-committed) and published; statuses as the engine publishes them. Play to ' +
      '`succeeded` as a subscriber to the status (QoS 1, its own connection) sees it; the events are counted by another subscriber (QoS 1). ' +
      'Where that subscriber received fewer events than the engine published, the broker dropped them: Mosquitto queues at most ' +
      '1,000 QoS 1 messages for a client beyond the 20 in flight (max_queued_messages, max_inflight_messages) and drops the rest. ' +
      `${FLOOR_DESCRIPTION} Each command is two events, each published once by the engine and received once by the subscriber.`,
    figures,
  };
}
