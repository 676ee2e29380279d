// The durability soak: several clients send random valid, invalid and repeated actions to dozens of runs on
// simulated gantries, and the engine is restarted twice (SIGTERM, then SIGKILL) once the traffic has stopped and
// the runs have settled. Each restart must give back every run exactly as it was, and across the whole soak no
// command may be carried out twice — counted from the run events and from the motion requests on hw/+/requests.
//
// Random but seeded: the seed is printed, and SOAK_SEED=<seed> replays the same protocols and the same sequence of
// actions (the timing of the machines and the broker still varies from run to run).
//
// What "exactly as it was" means here (the contract's restart rules, docs/mqtt-contract.md "Restarts"):
// - a run that is idle, paused (by the protocol, a user, mid-move or in a delay) or finished when the engine
//   stops comes back with the same status document, except that `seq` and `updatedAt` may advance (refused
//   actions take a seq without republishing the status; see changedFields) — such a run journals nothing on
//   recovery;
// - a run that did not settle (still running or pausing, e.g. its move waits behind another run's feed hold on
//   the same controller) comes back `paused`, source `recovery`, with the same current command and progress and
//   a later `seq`; one that was `stopping` comes back `stopped`.
// A motion command may reach the hardware once, plus once more for each restart that found it current (the
// documented resend on resume); every other command event happens at most once per command.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll, type Received, type ServiceProcess, type TestClient } from '@labrun/testkit';

const SEED = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = 40;
const DEVICES = 4;
const CLIENTS = 4;
const TRAFFIC_MS = 7_000;
const ENGINE_ID = 'e-soak';
const REPLIES = `engine/${ENGINE_ID}/replies`;

/** mulberry32: a small seeded generator, so a failing soak can be replayed with its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const runId = (r: number) => `soak-${r}`;
const deviceOf = (r: number) => `soak-sim-${r % DEVICES}`;
/** Every move of the soak has its own target, so a request on hw/<dev>/requests names the command it carries out. */
const moveTarget = (r: number, index: number) => ({ x: 5 + r * 0.5, y: 5 + index * 0.5, feed: 6000 });
const targetKey = (p: { x?: number; y?: number }) => `${p.x}/${p.y}`;

/** A protocol of small fast moves, homes, protocol pauses, short delays and comments. */
function protocolFor(r: number, random: () => number): { type: string; params?: object }[] {
  const commands: { type: string; params?: object }[] = [];
  if (r % 10 === 0) commands.push({ type: 'home' });
  const length = 5 + Math.floor(random() * 6);
  while (commands.length < length) {
    const pick = random();
    const index = commands.length;
    if (pick < 0.4) commands.push({ type: 'move', params: moveTarget(r, index) });
    else if (pick < 0.6) commands.push({ type: 'delay', params: { seconds: 0.2 + Math.round(random() * 4) / 10, message: `incubate ${index}` } });
    else if (pick < 0.8) commands.push({ type: 'comment', params: { message: `step ${index}` } });
    else commands.push({ type: 'pause', params: { message: `check ${index}` } });
  }
  return commands;
}

const ACTIONS = ['play', 'resume', 'pause', 'skip-delay', 'stop', 'retry', 'skip', 'home', 'unlock'] as const;
// stop is rare, so that most runs live through both restarts; the recovery actions are mostly refused (only a run
// awaiting recovery takes them) and, when taken, retry a move, skip it, or home the device under other runs.
const ACTION_WEIGHTS = [0.28, 0.28, 0.23, 0.13, 0.005, 0.03, 0.02, 0.01, 0.01];
const INVALID: Array<(random: () => number) => string | Buffer> = [
  () => '{"type": "resume"',
  () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
  () => JSON.stringify({ type: 'resume', id: 42 }),
  () => JSON.stringify({ type: 'launch', id: 'never-valid' }),
  () => JSON.stringify({ type: 'resume', message: 'x'.repeat(9000) }),
  () => JSON.stringify({ type: 'play', mode: 'deferred' }),
  () => JSON.stringify({ type: 'pause', mode: 'sometimes' }),
  () => JSON.stringify({ type: 'resume', extra: true }),
  () => '',
  () => 'RESUME please',
  (random) => Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256))),
];

/** A run awaiting recovery whose fixit (home, unlock) the device has not answered yet: it is not settled. */
const fixitInFlight = (s: RunStatusDocument) => s.status === 'awaiting-recovery' && s.recovery?.fixit?.ok === null;
const QUIET = new Set(['idle', 'paused', 'blocked', 'awaiting-recovery', 'succeeded', 'failed', 'stopped']);
const FINISHED = new Set(['succeeded', 'failed', 'stopped']);
/**
 * What differs between a run's status before and after a restart. `seq` and `updatedAt` may only advance: an
 * action refused while the run was idle or paused is in its history (it takes a seq) but, as the contract says,
 * does not republish the status; the restarted engine publishes the status of the whole history.
 */
function changedFields(before: RunStatusDocument, after: RunStatusDocument): string[] {
  const changed: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof RunStatusDocument>) {
    if (key === 'seq' || key === 'updatedAt') continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed.push(`${key} ${JSON.stringify(before[key])} → ${JSON.stringify(after[key])}`);
  }
  if (after.seq < before.seq) changed.push(`seq went back ${before.seq} → ${after.seq}`);
  if (after.updatedAt < before.updatedAt) changed.push(`updatedAt went back ${before.updatedAt} → ${after.updatedAt}`);
  return changed;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pickWeighted<T>(items: readonly T[], weights: number[], random: () => number): T {
  let roll = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < items.length; i++) {
    roll -= weights[i]!;
    if (roll < 0) return items[i]!;
  }
  return items.at(-1)!;
}

describe('the engine under a soak of random actions and restarts', () => {
  afterAll(stopAll);

  it(`keeps every run as it was across restarts and never carries out a command twice (seed ${SEED})`, async () => {
    console.log(`soak seed ${SEED} (SOAK_SEED=${SEED} replays it)`);
    const random = seeded(SEED);
    const problems: string[] = [];
    // How long each phase took, printed at the end: the soak should take about a minute on a CI machine.
    const phases: string[] = [];
    let phaseStart = Date.now();
    const phaseDone = (name: string) => {
      phases.push(`${name} ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`);
      phaseStart = Date.now();
    };

    const broker = await startBroker();
    await Promise.all(Array.from({ length: DEVICES }, (_, d) => startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: `soak-sim-${d}` })));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-soak-'));
    const devices = Array.from({ length: DEVICES }, (_, d) => `soak-sim-${d}`).join(',');
    const engineEnv = { MQTT_URL: broker.url, ENGINE_ID, DEVICE_ID: 'soak-sim-0', ENGINE_DEVICES: devices, LABRUN_DATA_DIR: dataDir };
    let engine: ServiceProcess = await startService('engine', engineEnv);
    phaseDone('services');

    const observer = await connectTestClient(broker.url);
    await observer.subscribe(['run/+/status', 'run/+/events', 'hw/+/requests']);

    // The simulated controllers start in Alarm: home them once, outside the runs (these requests reply to us).
    const homer = await connectTestClient(broker.url);
    await homer.subscribe('soak/homed');
    for (let d = 0; d < DEVICES; d++) {
      await homer.publish(`hw/soak-sim-${d}/requests`, { id: `home-${d}`, replyTo: 'soak/homed', op: 'home', params: {} });
    }
    for (let d = 0; d < DEVICES; d++) {
      const reply = await homer.waitFor('soak/homed', (m) => m.json().id === `home-${d}`, 20_000);
      expect(reply.json()).toMatchObject({ ok: true });
    }
    await homer.close();
    phaseDone('homing');

    const protocols = Array.from({ length: RUNS }, (_, r) => protocolFor(r, random));
    const createOf = (r: number) => ({ protocol: { schemaVersion: 1, metadata: { name: `soak ${r}` }, commands: protocols[r] }, deviceId: deviceOf(r) });
    const clients: TestClient[] = [];
    for (let c = 0; c < CLIENTS; c++) clients.push(await connectTestClient(broker.url));
    for (let r = 0; r < RUNS; r++) await clients[r % CLIENTS]!.publish(`run/${runId(r)}/create`, createOf(r));
    await expect.poll(() => latestStatuses().size, { timeout: 15_000 }).toBe(RUNS);
    phaseDone('creates');

    /** Each run's newest status as the observer received it live. */
    function latestStatuses(from = 0): Map<string, RunStatusDocument> {
      const latest = new Map<string, RunStatusDocument>();
      for (let i = from; i < observer.received.length; i++) {
        const m = observer.received[i]!;
        if (m.topic.endsWith('/status') && m.topic.startsWith('run/soak-') && m.text !== '') latest.set(m.topic.split('/')[1]!, m.json());
      }
      return latest;
    }

    // The actions each client has sent with an id, to send again (sometimes as another action type).
    const sentIds: Array<Array<{ runId: string; id: string; type: string }>> = clients.map(() => []);
    const sent = { valid: 0, repeated: 0, invalid: 0, unknownRun: 0, recreate: 0 };
    let nextId = 0;

    /** One client's random traffic until `until`: a message every few tens of milliseconds. */
    async function traffic(client: TestClient, c: number, until: number, phase: number): Promise<void> {
      const rand = seeded(SEED + 1000 * (c + 1) + phase);
      const mine = sentIds[c]!;
      while (Date.now() < until) {
        const r = Math.floor(rand() * RUNS);
        const topic = `run/${runId(r)}/actions`;
        const roll = rand();
        if (roll < 0.55) {
          const type = pickWeighted(ACTIONS, ACTION_WEIGHTS, rand);
          const form = rand();
          if (form < 0.2) await client.publish(topic, type);
          else if (form < 0.35) await client.publish(topic, { type });
          else {
            const id = `c${c}-a${++nextId}`;
            const action: Record<string, string> = { type, id, by: `client-${c}` };
            if (type === 'pause' && rand() < 0.6) action.mode = rand() < 0.5 ? 'immediate' : 'deferred';
            await client.publish(topic, action);
            mine.push({ runId: runId(r), id, type });
          }
          sent.valid++;
        } else if (roll < 0.78 && mine.length > 0) {
          const again = mine[Math.floor(rand() * mine.length)]!;
          const type = rand() < 0.5 ? again.type : pickWeighted(ACTIONS, ACTION_WEIGHTS, rand);
          await client.publish(`run/${again.runId}/actions`, { type, id: again.id });
          sent.repeated++;
        } else if (roll < 0.97) {
          await client.publish(topic, INVALID[Math.floor(rand() * INVALID.length)]!(rand));
          sent.invalid++;
        } else if (roll < 0.985) {
          await client.publish(`run/soak-nobody-${c}/actions`, { type: 'resume', id: `c${c}-x${++nextId}` });
          sent.unknownRun++;
        } else {
          await client.publish(`run/${runId(r)}/create`, createOf(r));
          sent.recreate++;
        }
        await sleep(15 + rand() * 40);
      }
    }

    /**
     * Wait (bounded) until no status has changed for a while and every run is in a state that does not move by
     * itself. Returns the runs that did not settle: a move held up behind another run's feed hold never will.
     */
    async function settle(maxMs = 6_000): Promise<string[]> {
      const deadline = Date.now() + maxMs;
      let count = -1;
      let quietSince = Date.now();
      for (;;) {
        const now = observer.messages('run/+/status').length;
        if (now !== count) {
          count = now;
          quietSince = Date.now();
        }
        const moving = [...latestStatuses()].filter(([, s]) => !QUIET.has(s.status) || fixitInFlight(s)).map(([id]) => id);
        if (Date.now() - quietSince >= 1500 && (moving.length === 0 || Date.now() > deadline)) return moving;
        if (Date.now() > deadline + 3000) return moving;
        await sleep(200);
      }
    }

    /** The retained status of every run, as a client connecting now would get it. */
    async function retainedStatuses(): Promise<Map<string, RunStatusDocument>> {
      const fresh = await connectTestClient(broker.url);
      await fresh.subscribe('run/+/status');
      await expect.poll(() => new Set(fresh.messages('run/+/status').map((m) => m.topic)).size, { timeout: 10_000 }).toBeGreaterThanOrEqual(RUNS);
      await sleep(300);
      const docs = new Map<string, RunStatusDocument>();
      for (const m of fresh.messages('run/+/status')) if (m.text !== '' && m.topic.startsWith('run/soak-')) docs.set(m.topic.split('/')[1]!, m.json());
      await fresh.close();
      return docs;
    }

    /** (run, command index) pairs current at each restart: their motion may legitimately be sent once more. */
    const currentAtRestart: string[] = [];
    const restartMix: Record<string, number>[] = [];

    async function restart(how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
      const unsettled = await settle();
      const before = await retainedStatuses();
      const live = latestStatuses();
      for (const [id, doc] of before) {
        if (JSON.stringify(live.get(id)) !== JSON.stringify(doc)) problems.push(`${how}: retained status of ${id} is not its last published one`);
      }
      const mix: Record<string, number> = {};
      for (const doc of before.values()) {
        const key = `${doc.status}${doc.current ? `@${doc.current.type}` : ''}`;
        mix[key] = (mix[key] ?? 0) + 1;
        if (doc.current) currentAtRestart.push(`${doc.runId}#${doc.current.index}`);
      }
      restartMix.push(mix);
      console.log(`soak ${how} restart: ${JSON.stringify(mix)}; did not settle: ${unsettled.join(', ') || 'none'}`);

      if (how === 'SIGTERM') await engine.stop(10_000);
      else await engine.kill();
      const mark = observer.received.length;
      engine = await startService('engine', engineEnv);
      // Every run is published again by the new engine before its retained status is read back.
      await expect.poll(() => latestStatuses(mark).size, { timeout: 15_000 }).toBe(RUNS);
      await settle(4000);
      const after = await retainedStatuses();

      for (const [id, was] of before) {
        const now = after.get(id);
        if (!now) {
          problems.push(`${how}: run ${id} has no status after the restart (was ${was.status})`);
          continue;
        }
        if (fixitInFlight(was)) {
          // A home or unlock the device had not answered (queued behind a move another run's feed hold keeps
          // waiting): it comes back awaiting recovery as it was, the fixit's outcome unknown, so failed, to do again.
          const fixit = now.recovery?.fixit;
          const same = JSON.stringify([now.current, now.progress, now.error]) === JSON.stringify([was.current, was.progress, was.error]);
          if (now.status !== 'awaiting-recovery' || fixit?.ok !== false || !/^the engine restarted during (home|unlock)/.test(fixit.message ?? '') || !same) {
            problems.push(`${how}: run ${id} was awaiting recovery with a ${was.recovery?.fixit?.action} in flight and came back ${JSON.stringify(now)}`);
          }
        } else if (QUIET.has(was.status)) {
          const changed = changedFields(was, now);
          if (changed.length > 0) problems.push(`${how}: run ${id} (${was.status}) came back changed: ${changed.join('; ')}`);
        } else if (was.status === 'stopping') {
          if (now.status !== 'stopped') problems.push(`${how}: run ${id} was stopping and came back ${now.status}`);
        } else {
          const kept = now.status === 'paused' && now.pause?.source === 'recovery' && now.seq > was.seq;
          const same = JSON.stringify([now.current?.index, now.current?.type, now.progress]) === JSON.stringify([was.current?.index, was.current?.type, was.progress]);
          if (!kept || !same) problems.push(`${how}: run ${id} was ${was.status} mid-command and came back ${JSON.stringify(now)}`);
        }
      }
    }

    const clientTraffic = (phase: number) => {
      const until = Date.now() + TRAFFIC_MS;
      return Promise.all(clients.map((client, c) => traffic(client, c, until, phase)));
    };

    await clientTraffic(1);
    phaseDone('traffic');
    await restart('SIGTERM');
    phaseDone('SIGTERM restart');
    await clientTraffic(2);
    phaseDone('traffic');
    await restart('SIGKILL');
    phaseDone('SIGKILL restart');
    console.log(`soak sent ${JSON.stringify(sent)}`);

    // Drive every run to an end: play or resume whatever waits, and stop what has not finished in time.
    let driveId = 0;
    const driver = clients[0]!;
    const driveUntil = Date.now() + 20_000;
    while (Date.now() < driveUntil) {
      const statuses = latestStatuses();
      const open = [...statuses.values()].filter((s) => !FINISHED.has(s.status));
      if (open.length === 0) break;
      for (const s of open) {
        if (s.status === 'idle') await driver.publish(`run/${s.runId}/actions`, { type: 'play', id: `drive-${++driveId}` });
        if (s.status === 'paused') await driver.publish(`run/${s.runId}/actions`, { type: 'resume', id: `drive-${++driveId}` });
        if (s.status === 'awaiting-recovery') await driver.publish(`run/${s.runId}/actions`, { type: 'skip', id: `drive-${++driveId}` });
      }
      await sleep(400);
    }
    for (const s of latestStatuses().values()) {
      if (!FINISHED.has(s.status)) await driver.publish(`run/${s.runId}/actions`, { type: 'stop', id: `drive-stop-${s.runId}` });
    }
    await expect.poll(() => [...latestStatuses().values()].filter((s) => !FINISHED.has(s.status)).map((s) => `${s.runId} ${s.status}`), { timeout: 15_000 }).toEqual([]);
    await sleep(500);
    phaseDone('drive to the end');

    // Count what was carried out, from the events every subscriber saw and the requests the hardware received.
    // A message delivered twice by the broker (QoS 1) has the same text: it is counted once.
    const distinct = (messages: Received[]) => [...new Map(messages.map((m) => [`${m.topic} ${m.text}`, m])).values()];
    const events = distinct(observer.messages('run/+/events'))
      .map((m) => m.json())
      .filter((e) => e.seq > 0 && String(e.runId).startsWith('soak-'));
    const requests = distinct(observer.messages('hw/+/requests'))
      .map((m) => ({ device: m.topic.split('/')[1]!, ...m.json() }))
      .filter((q) => q.replyTo === REPLIES);

    // A run's history only grows: one event per seq, ever.
    const bySeq = new Map<string, string>();
    for (const e of events) {
      const key = `${e.runId}@${e.seq}`;
      const text = JSON.stringify(e);
      if (bySeq.has(key) && bySeq.get(key) !== text) problems.push(`run ${e.runId} published seq ${e.seq} twice with different events:\n  ${bySeq.get(key)}\n  ${text}`);
      bySeq.set(key, text);
    }

    const count = (type: string, run: string, index: number) => events.filter((e) => e.type === type && e.runId === run && e.index === index).length;
    const restartsAt = (run: string, index: number) => currentAtRestart.filter((k) => k === `${run}#${index}`).length;
    const finals = latestStatuses();
    const homeAllowance = new Map<string, number>();
    const homeWhy = new Map<string, string[]>();
    for (let r = 0; r < RUNS; r++) {
      const id = runId(r);
      const final = finals.get(id)!;
      protocols[r]!.forEach((command, index) => {
        // Each attempt (the first, and one per accepted retry) starts once and ends once; the command succeeds at most once.
        const started = count('command.started', id, index);
        const succeeded = count('command.succeeded', id, index);
        const attempts = events.filter((e) => e.type === 'command.started' && e.runId === id && e.index === index).map((e) => e.attempt ?? 1);
        if (new Set(attempts).size !== attempts.length || attempts.some((a, i) => a !== i + 1)) problems.push(`run ${id} command ${index} (${command.type}) started attempts ${attempts.join(', ')}`);
        for (const attempt of attempts) {
          const ends = events.filter((e) => (e.type === 'command.succeeded' || e.type === 'command.failed') && e.runId === id && e.index === index && (e.attempt ?? 1) === attempt).length;
          if (ends > 1) problems.push(`run ${id} command ${index} (${command.type}) attempt ${attempt} ended ${ends} times`);
        }
        if (succeeded > 1) problems.push(`run ${id} command ${index} (${command.type}) succeeded ${succeeded} times`);
        const skipped = count('command.skipped', id, index);
        if (final.status === 'succeeded' && succeeded + skipped !== 1)
          problems.push(`run ${id} succeeded but command ${index} (${command.type}) succeeded ${succeeded} and was skipped ${skipped} times`);
        if (command.type === 'move') {
          const sentToHardware = requests.filter((q) => q.op === 'move' && targetKey(q.params) === targetKey(moveTarget(r, index))).length;
          const allowed = started + restartsAt(id, index);
          if (sentToHardware > allowed) problems.push(`run ${id} move ${index} was sent to the hardware ${sentToHardware} times (allowed ${allowed})`);
          if (succeeded === 1 && sentToHardware === 0) problems.push(`run ${id} move ${index} succeeded without a request to the hardware`);
        }
        // A home, like a move, is sent once per attempt (a failed home that an operator retries is homed again), plus restarts.
        if (command.type === 'home') {
          homeAllowance.set(deviceOf(r), (homeAllowance.get(deviceOf(r)) ?? 0) + started + restartsAt(id, index));
          homeWhy.set(deviceOf(r), [...(homeWhy.get(deviceOf(r)) ?? []), `${id} home: ${started} attempts, ${restartsAt(id, index)} restarts`]);
        }
      });
      if (final.status === 'succeeded' && final.progress.completed !== final.progress.total) problems.push(`run ${id} succeeded at ${JSON.stringify(final.progress)}`);
    }
    // An operator's home (a fixit action) homes the device too.
    for (let r = 0; r < RUNS; r++) {
      const fixits = events.filter((e) => e.type === 'action.accepted' && e.runId === runId(r) && e.action === 'home').length;
      homeAllowance.set(deviceOf(r), (homeAllowance.get(deviceOf(r)) ?? 0) + fixits);
      if (fixits > 0) homeWhy.set(deviceOf(r), [...(homeWhy.get(deviceOf(r)) ?? []), `${runId(r)}: ${fixits} operator homes`]);
    }
    for (let d = 0; d < DEVICES; d++) {
      const device = `soak-sim-${d}`;
      const homes = requests.filter((q) => q.device === device && q.op === 'home').length;
      if (homes > (homeAllowance.get(device) ?? 0))
        problems.push(`${device} was asked to home ${homes} times, allowed ${homeAllowance.get(device) ?? 0} (${(homeWhy.get(device) ?? []).join('; ') || 'no home command'})`);
    }

    const recoveries: Record<string, number> = {};
    for (const e of events) if (e.type === 'action.accepted' && ['retry', 'skip', 'home', 'unlock'].includes(e.action)) recoveries[e.action] = (recoveries[e.action] ?? 0) + 1;
    console.log(`soak recovery actions accepted: ${JSON.stringify(recoveries)}`);
    const outcomes: Record<string, number> = {};
    for (const s of finals.values()) outcomes[s.status] = (outcomes[s.status] ?? 0) + 1;
    console.log(`soak phases: ${phases.join(', ')}`);
    console.log(`soak outcomes ${JSON.stringify(outcomes)}; ${events.length} events, ${requests.length} hardware requests; ${problems.length} problems`);

    for (const s of finals.values()) if (s.error) console.log(`soak ${s.runId} failed: ${JSON.stringify(s.error)}`);
    const shown = problems.slice(0, 40).join('\n');
    expect(problems.length, `seed ${SEED}: ${problems.length} problems, the first ones:\n${shown}`).toBe(0);
    // The soak reached what it is about: runs paused mid-command and finished runs at a restart, and repeats.
    const mixes = restartMix.flatMap((m) => Object.keys(m));
    expect(mixes.some((k) => k.startsWith('paused@'))).toBe(true);
    expect(mixes.some((k) => FINISHED.has(k))).toBe(true);
    expect(sent.repeated).toBeGreaterThan(50);
    expect(engine.proc.exitCode).toBeNull();
    for (const client of clients) await client.close();
    await observer.close();
  }, 150_000);
});
