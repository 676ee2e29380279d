// A fleet: ten engines, each serving its own device with 100 runs paused on it, on one labrun broker and on two
// labrun brokers clustered on Redis (the engines alternate between them). Resume all 1,000 at once and time until
// every status says running; each engine's resident memory with its runs live. Beside it, in the same sitting, the
// same 1,000 runs in one engine on one broker: the floor a fleet's routing (every engine hears every create and
// action, and follows every status) adds to.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { flushRedisDb, startBroker, startService, stopAll, tcpReachable } from '@labrun/testkit';
import { connect, within } from './clients.mjs';
import { now, round } from './stats.mjs';
import { workload } from './workload.mjs';

const ENGINES = workload('BENCH_FLEET_ENGINES', 10, 3);
const RUNS_PER_ENGINE = workload('BENCH_FLEET_RUNS', 100, 5);
const REDIS_DB = 1; // a database of its own (the tests use 2..15)
/** BENCH_BROKERS (brokers.mjs) picks the setups here too: `aedes` (one labrun broker), `redis-cluster`; both by default. */
const wanted = (id) => !process.env.BENCH_BROKERS || process.env.BENCH_BROKERS.split(',').some((one) => one.trim() === id);

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const protocol = {
  schemaVersion: 1,
  metadata: { name: 'fleet bench' },
  commands: [
    { type: 'pause', params: { message: 'wait' } },
    { type: 'comment', params: { message: 'after' } },
  ],
};

/** `engines` engines (each its own device) on `urls` (alternating), `runsPerEngine` runs each: the resume-all figures. */
async function measure(urls, engines, runsPerEngine) {
  const tag = `fleet-${randomUUID().slice(0, 6)}`;
  const dirs = [];
  const processes = [];
  try {
    for (let e = 0; e < engines; e++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-bench-fleet-'));
      dirs.push(dir);
      processes.push(startService('engine', { MQTT_URL: urls[e % urls.length], ENGINE_ID: `${tag}-e${e}`, ENGINE_DEVICES: `${tag}-d${e}`, LABRUN_DATA_DIR: dir, LOG_LEVEL: 'info' }));
    }
    const started = await Promise.all(processes);
    const [publisher, subscriber] = await Promise.all([connect(urls[0]), connect(urls[urls.length - 1])]);
    const total = engines * runsPerEngine;
    const ids = Array.from({ length: total }, (_, i) => ({ runId: `${tag}-${i}`, deviceId: `${tag}-d${i % engines}` }));
    let wave = { wanted: new Set(), reached: new Set(), done: () => {} };
    subscriber.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const at = now();
      const runId = topic.slice('run/'.length, -'/status'.length);
      if (!runId.startsWith(`${tag}-`) || wave.reached.has(runId) || !wave.wanted.has(JSON.parse(payload.toString()).status)) return;
      wave.reached.add(runId);
      if (wave.reached.size === total) wave.done(at);
    });
    await subscriber.subscribeAsync('run/+/status', { qos: 0 });
    const everyRun = (message, statuses) => {
      const reachedAll = new Promise((resolve) => (wave = { wanted: new Set(statuses), reached: new Set(), done: resolve }));
      for (const { runId, deviceId } of ids) {
        const [kind, payload] = message === 'create' ? ['create', JSON.stringify({ protocol, deviceId })] : ['actions', message];
        publisher.publish(`run/${runId}/${kind}`, payload, { qos: 1 });
      }
      return within(reachedAll, 60_000, () => `${message}: ${wave.reached.size} of ${total} runs ${statuses.join(' or ')}`);
    };
    await everyRun('create', ['idle']);
    await everyRun('play', ['paused']);
    const memory = started.map((engine) => rssMiB(engine.proc.pid));
    const start = now();
    const allRunning = await everyRun('resume', ['running', 'succeeded']);
    await Promise.all([publisher.endAsync(), subscriber.endAsync()]);
    return { ms: allRunning - start, memory };
  } finally {
    await stopAll();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  const total = ENGINES * RUNS_PER_ENGINE;
  const figures = [];
  const add = (broker, label, value, unit) => figures.push({ broker, label, value, unit });

  const single = await measure([(await startBroker()).url], 1, total);
  add('aedes', `one engine, ${total} runs: resume all, time until every status says running`, round(single.ms, 1), 'ms');
  add('aedes', `one engine, ${total} runs: its resident memory`, round(single.memory[0], 1), 'MiB');

  const fleet = await measure([(await startBroker()).url], ENGINES, RUNS_PER_ENGINE);
  add('aedes', `${ENGINES} engines × ${RUNS_PER_ENGINE} runs: resume all, time until every status says running`, round(fleet.ms, 1), 'ms');
  add('aedes', `${ENGINES} engines: as a multiple of one engine on one broker`, round(fleet.ms / single.ms, 2), '×');
  add('aedes', `${ENGINES} engines: resident memory per engine, mean`, round(fleet.memory.reduce((a, b) => a + b, 0) / fleet.memory.length, 1), 'MiB');
  add('aedes', `${ENGINES} engines: resident memory per engine, most`, round(Math.max(...fleet.memory), 1), 'MiB');

  if (!wanted('redis-cluster')) {
    // left out by BENCH_BROKERS
  } else if (await tcpReachable('127.0.0.1', 6379)) {
    await flushRedisDb(REDIS_DB);
    const redis = { BROKER_REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}` };
    const brokers = await Promise.all([startBroker(redis), startBroker(redis)]);
    const cluster = await measure(
      brokers.map((b) => b.url),
      ENGINES,
      RUNS_PER_ENGINE,
    );
    await flushRedisDb(REDIS_DB);
    add('redis-cluster', `${ENGINES} engines × ${RUNS_PER_ENGINE} runs: resume all, time until every status says running`, round(cluster.ms, 1), 'ms');
    add('redis-cluster', `${ENGINES} engines: as a multiple of one engine on one broker`, round(cluster.ms / single.ms, 2), '×');
    add('redis-cluster', `${ENGINES} engines: resident memory per engine, mean`, round(cluster.memory.reduce((a, b) => a + b, 0) / cluster.memory.length, 1), 'MiB');
    add('redis-cluster', `${ENGINES} engines: resident memory per engine, most`, round(Math.max(...cluster.memory), 1), 'MiB');
  } else {
    console.warn('[bench] no Redis on 127.0.0.1:6379: the Redis cluster is not measured');
  }

  return {
    name: `Fleet (${ENGINES} engines × ${RUNS_PER_ENGINE} paused runs)`,
    description:
      `${ENGINES} engines, each serving its own device (ENGINE_DEVICES) with ${RUNS_PER_ENGINE} runs paused on it, on one labrun broker ` +
      '(aedes) and on two labrun brokers sharing Redis (redis-cluster, the engines alternating between them, the resumes published on ' +
      'one and the statuses read on the other). Resume time: from the first of the resumes published at once (QoS 1, one connection) to ' +
      'the last status showing its run running (or already finished), read at QoS 0. The floor, in the same sitting: the same runs in ' +
      'one engine on one broker. Every engine hears every create and action and follows every status, to know which are its own.',
    figures,
  };
}
