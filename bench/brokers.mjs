// The brokers a benchmark runs against, and how it behaves on one it shares with others.
// - aedes: labrun's broker (apps/broker), a fresh process on ephemeral ports for each module, gone afterwards.
// - mosquitto: the machine's Mosquitto on 127.0.0.1:1883 as it is configured, when one answers there. Tests may be
//   using it at the same time, so everything a benchmark creates there is named with its own tag (run, engine and
//   device ids), its services are stopped before it moves on (an engine takes every run on its broker), and
//   afterwards it clears every retained topic it caused and forgets its engine's persistent session.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MOSQUITTO_URL, startBroker, startService, stopAll, tcpReachable } from '@labrun/testkit';
import { connect } from './clients.mjs';

const MOSQUITTO_CONF = '/etc/mosquitto/mosquitto.conf';

/** What each broker is, for the report: `{ id, name, detail }`. */
const described = new Map();

/** BENCH_BROKERS=aedes (or mosquitto, or both comma-separated) measures on those only; by default on both. */
const wanted = (id) => !process.env.BENCH_BROKERS || process.env.BENCH_BROKERS.split(',').some((one) => one.trim() === id);

export async function brokers() {
  const list = [];
  if (wanted('aedes')) {
    list.push({
      id: 'aedes',
      name: 'Aedes (labrun broker)',
      detail: "labrun's broker (apps/broker, Aedes), a fresh process on ephemeral ports for each module",
      shared: false,
      start: async () => (await startBroker()).url,
    });
  }
  if (wanted('mosquitto')) {
    if (await tcpReachable('127.0.0.1', 1883)) {
      list.push({ id: 'mosquitto', name: 'Mosquitto (127.0.0.1:1883)', detail: await describeMosquitto(), shared: true, start: async () => MOSQUITTO_URL });
    } else {
      console.warn('[bench] no Mosquitto on 127.0.0.1:1883: measuring without it');
    }
  }
  for (const broker of list) described.set(broker.id, { id: broker.id, name: broker.name, detail: broker.detail });
  return list;
}

/** The brokers measured so far in this process, for the report. */
export const describeBrokers = () => [...described.values()];

/** Its version (from $SYS) and the one setting that shapes its latency here. */
async function describeMosquitto() {
  let version = 'Mosquitto';
  const client = await connect(MOSQUITTO_URL);
  try {
    version = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('Mosquitto (version not published)'), 1000);
      client.on('message', (_topic, payload) => {
        clearTimeout(timer);
        resolve(payload.toString());
      });
      client.subscribe('$SYS/broker/version');
    });
  } finally {
    await client.endAsync();
  }
  const conf = fs.existsSync(MOSQUITTO_CONF) ? fs.readFileSync(MOSQUITTO_CONF, 'utf8') : '';
  const nodelay = /^\s*set_tcp_nodelay\s+true\b/m.test(conf) ? 'set_tcp_nodelay true' : "set_tcp_nodelay false, the default: Nagle's algorithm on";
  return `${version} on 127.0.0.1:1883, as the machine configures it (${nodelay}), shared with whatever else uses it`;
}

/**
 * Run `measure(bench)` on every broker and return its figures, each marked with the broker it came from.
 * `bench` has the broker's `url`, a `tag` unique to this measurement (use it in every id), and starts the
 * engine and hardware service with ids from that tag. Whatever the measurement started is stopped when it ends,
 * failed or not, and on a shared broker nothing of it is left behind.
 */
export async function onEachBroker(prefix, measure) {
  const figures = [];
  for (const broker of await brokers()) {
    const started = Date.now();
    const url = await broker.start();
    const tag = `${prefix}-${randomUUID().slice(0, 8)}`;
    const bench = benchOn(broker, url, tag);
    try {
      if (broker.shared) await warnAboutOtherEngines(url);
      for (const figure of await measure(bench)) figures.push({ broker: broker.id, ...figure });
    } finally {
      await stopAll(); // its services (and a fresh broker) end with it
      if (broker.shared) await leaveNothingBehind(url, tag, bench.sessions);
      for (const dir of bench.dataDirs) fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`  [${broker.id}] ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return figures;
}

function benchOn(broker, url, tag) {
  const bench = {
    broker,
    url,
    tag,
    engineId: tag,
    deviceId: tag,
    sessions: [],
    dataDirs: [],
    /** An engine with id `tag`, journaling to a directory removed afterwards. */
    async startEngine() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-bench-engine-'));
      bench.dataDirs.push(dir);
      // The engine keeps a persistent session (its actions wait on the broker while it restarts): forget it after.
      bench.sessions.push(`labrun-engine-${tag}`);
      return startService('engine', { MQTT_URL: url, ENGINE_ID: tag, DEVICE_ID: tag, LABRUN_DATA_DIR: dir, LOG_LEVEL: 'info' });
    },
    /** A hardware service for device `tag`, on the GRBL simulator. */
    startHardware: () => startService('hardware', { MQTT_URL: url, DEVICE_ID: tag, LOG_LEVEL: 'info' }),
  };
  return bench;
}

/** Another engine on the broker takes our runs too (and we theirs): say so, since the figures may show it. */
async function warnAboutOtherEngines(url) {
  const online = (await retained(url, 'engine/+/online')).filter((m) => m.payload === 'true');
  if (online.length > 0) console.warn(`  [bench] other engines are online on ${url} (${online.map((m) => m.topic).join(', ')}): they take the bench's runs too`);
}

/** Retained messages under `filter`, as a new subscriber gets them: `{ topic, payload }`. */
async function retained(url, filter) {
  const client = await connect(url);
  const found = new Map();
  try {
    await new Promise((resolve) => {
      // Retained messages come at once after the subscription; wait until they stop (at most 2 s).
      let quiet = setTimeout(resolve, 300);
      const deadline = setTimeout(resolve, 2000);
      client.on('message', (topic, payload, packet) => {
        if (!packet.retain) return;
        if (payload.length === 0) found.delete(topic);
        else found.set(topic, payload.toString());
        clearTimeout(quiet);
        quiet = setTimeout(() => {
          clearTimeout(deadline);
          resolve();
        }, 300);
      });
      client.subscribe(filter, { qos: 0 });
    });
  } finally {
    await client.endAsync();
  }
  return [...found].map(([topic, payload]) => ({ topic, payload }));
}

/** Clear every retained topic with `tag` in a level (run/<tag>-1/status, engine/<tag>/online …) and forget the sessions. */
async function leaveNothingBehind(url, tag, sessions) {
  for (const clientId of sessions) await (await connect(url, { clientId, clean: true })).endAsync();
  const ours = (topic) => topic.split('/').some((level) => level.startsWith(tag));
  for (let attempt = 1; attempt <= 3; attempt++) {
    const left = (await retained(url, '#')).filter((m) => ours(m.topic));
    if (left.length === 0) return;
    if (attempt === 3) {
      console.error(`  [bench] still retained on ${url} after clearing: ${left.map((m) => m.topic).join(', ')}`);
      return;
    }
    const client = await connect(url);
    await Promise.all(left.map((m) => client.publishAsync(m.topic, '', { qos: 1, retain: true })));
    await client.endAsync();
  }
}
