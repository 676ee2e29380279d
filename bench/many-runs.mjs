// Many runs at once: 1,000 runs paused in one engine; resume them all at once and time until every status says
// `running`; and the engine's resident memory with the 1,000 runs live. Per broker.
import fs from 'node:fs';
import { connect, within } from './clients.mjs';
import { onEachBroker } from './brokers.mjs';
import { now, round } from './stats.mjs';
import { workload } from './workload.mjs';

const RUNS = workload('BENCH_RUNS', 1000, 20);

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

export async function run() {
  const figures = await onEachBroker('many', async (bench) => {
    const engine = await bench.startEngine();
    const [publisher, subscriber] = await Promise.all([connect(bench.url), connect(bench.url)]);
    // Each run counts once, the first time its status is one the current wave waits for: a set lookup per
    // message, so the bench's own client adds next to nothing to the time it measures.
    const ours = `${bench.tag}-`;
    let wave = { wanted: new Set(), reached: new Set(), done: () => {} };
    subscriber.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const at = now();
      const runId = topic.slice('run/'.length, -'/status'.length);
      if (!runId.startsWith(ours) || wave.reached.has(runId) || !wave.wanted.has(JSON.parse(payload.toString()).status)) return;
      wave.reached.add(runId);
      if (wave.reached.size === RUNS) wave.done(at);
    });
    // QoS 0: a broker may drop QoS 1 messages for a client that has more waiting than it queues (Mosquitto's
    // max_queued_messages, 1,000), and 1,000 runs changing at once send it 2,000 statuses. On a shared broker
    // this gets other runs' statuses too (ignored above).
    await subscriber.subscribeAsync('run/+/status', { qos: 0 });
    /** Publish `payload` to every run's `kind` topic; resolves with the time every run's status was one of `statuses`. */
    const everyRun = (kind, payload, statuses) => {
      const reachedAll = new Promise((resolve) => (wave = { wanted: new Set(statuses), reached: new Set(), done: resolve }));
      for (const id of ids) publisher.publish(`run/${id}/${kind}`, payload, { qos: 1 });
      return within(reachedAll, 20_000, () => `${kind} ${kind === 'actions' ? payload : ''}: ${wave.reached.size} of ${RUNS} runs ${statuses.join(' or ')}`);
    };
    const ids = Array.from({ length: RUNS }, (_, i) => `${bench.tag}-${i}`);
    const protocol = {
      schemaVersion: 1,
      metadata: { name: 'many' },
      commands: [
        { type: 'pause', params: { message: 'wait' } },
        { type: 'comment', params: { message: 'after' } },
      ],
    };
    const rssBefore = rssMiB(engine.proc.pid);
    // In waves, each waiting for the last: a broker queues at most so many messages for a client (Mosquitto's
    // max_queued_messages is 1,000) and drops the rest, so 2,000 at once could lose some.
    await everyRun('create', JSON.stringify({ protocol }), ['idle']);
    await everyRun('actions', 'play', ['paused']);
    const rss = rssMiB(engine.proc.pid);
    const start = now();
    // After resume a run is `running`, then (its comment done) `succeeded`: either means the resume took effect.
    const allRunning = await everyRun('actions', 'resume', ['running', 'succeeded']);
    await Promise.all([publisher.endAsync(), subscriber.endAsync()]);
    return [
      { label: `resume all ${RUNS}: time until every status says running`, value: round(allRunning - start, 1), unit: 'ms' },
      { label: `engine resident memory with ${RUNS} runs live`, value: round(rss, 1), unit: 'MiB' },
      { label: 'engine resident memory before the runs', value: round(rssBefore, 1), unit: 'MiB' },
    ];
  });
  return {
    name: `Many runs (${RUNS.toLocaleString('en')} paused at once)`,
    description:
      'One engine. Resume time: from the first of the resumes published at once (QoS 1, one connection) to the last status showing its ' +
      'run running (or already finished), received by a subscriber on another connection. The runs are created, then played, in waves ' +
      'that each wait for every status. The subscriber takes the statuses at QoS 0: at QoS 1 Mosquitto dropped what did not fit its ' +
      "queue for one client (max_queued_messages 1,000: in a trial, 189 of 1,000 runs' `paused` never reached a QoS 1 subscriber, " +
      'though every retained status was right).',
    figures,
  };
}
