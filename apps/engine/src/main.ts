#!/usr/bin/env node
// The engine service: wires the engine (libs/engine) to MQTT. It owns runs: takes run/+/create and
// run/+/actions, publishes run/<id>/status (retained) and run/<id>/events, and drives hardware over hw/<dev>/*.
import { topics, type EngineStatus } from '@labrun/contracts';
import path from 'node:path';
import { type DataDirLock, DataDirLocked, durableOutput, Engine, FileJournal, InterlockWatch, lockDataDir } from '@labrun/engine';
import { closeService, connectService, createLogger, onShutdown, runMain } from '@labrun/service';
import { loadConfig } from './config.js';
import { MqttHardwarePort } from './hardware-port.js';
import { Inbox } from './inbox.js';
import { OtherEngines } from './other-engines.js';
import { routeMessage } from './routes.js';

const log = createLogger('engine');

runMain(log, async () => {
  const config = loadConfig();
  const onlineTopic = topics.engineOnline(config.ENGINE_ID);
  const statusTopic = topics.engineStatus(config.ENGINE_ID);
  // One engine per data directory: a second one would write the same journal and carry out the same runs.
  const dataDir = path.resolve(config.LABRUN_DATA_DIR);
  let lock: DataDirLock;
  try {
    lock = lockDataDir(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLocked)) throw error;
    log.error(`cannot start: ${error.message}`, { dir: error.dir, otherPid: error.holder.pid });
    process.exit(3);
  }
  // Every event is on disk before anything that reflects it is published (see libs/engine/src/journal.ts).
  // The journal is read before connecting: from the first connect on, everything below runs without a pause.
  const journalDir = path.join(dataDir, 'runs');
  const { journal, replayed } = await FileJournal.open(journalDir, { warn: (warning) => log.warn(`journal: ${warning}`) });
  for (const warning of replayed.warnings) log.warn(`journal: ${warning}`);
  // A run that lost events to damage must not pass for the run it was: say so, loudly, run by run.
  for (const damaged of replayed.damaged) log.error(`journal: ${damaged.message}`, { runId: damaged.runId, lost: damaged.lost, dropped: damaged.dropped });

  const connection = connectService({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    clientId: `labrun-engine-${config.ENGINE_ID}`,
    // Actions published while the engine restarts wait for it on the broker instead of being dropped.
    persistentSession: true,
    onlineTopic,
    log,
    onConnect: async ({ receiver }) => {
      await receiver.subscribeAsync({
        [topics.allRuns('create')]: { qos: 1 },
        [topics.allRuns('actions')]: { qos: 1 },
        [topics.allHw('online')]: { qos: 1 },
        [topics.allHw('state')]: { qos: 1 },
        [hardware.replyTopic]: { qos: 1 },
        [topics.allEngines()]: { qos: 1 },
      });
      // A broker that restarted without the session has forgotten what the runs' waits listen on.
      const waits = engine.listeningTopics();
      if (waits.length > 0) await receiver.subscribeAsync(Object.fromEntries(waits.map((topic) => [topic, { qos: 1 as const }])));
      // The broker may have restarted and lost every retained status: publish them all again.
      engine.republish();
      publishEngineStatus();
    },
  });

  // A string is sent as it is (an empty retained payload deletes a retained message); anything else as JSON.
  const { receiver, publisher } = connection;
  const publish = (topic: string, body: unknown, retain: boolean) =>
    publisher.publish(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1, retain }, (error) => {
      if (error) log.warn('publish failed', { topic, error: error.message });
    });

  const hardware = new MqttHardwarePort(publisher, config.ENGINE_ID, log);
  const devices = new InterlockWatch();
  const loggedStatus = new Map<string, string>();
  const output = durableOutput(
    {
      event: (event, json) => {
        log.debug('event', { runId: event.runId, seq: event.seq, type: event.type });
        publish(topics.run(event.runId, 'events'), json ?? event, false);
      },
      status: (status) => {
        // A line per change of status (paused, running, …); every republish only at debug level.
        const changed = loggedStatus.get(status.runId) !== status.status;
        loggedStatus.set(status.runId, status.status);
        log[changed ? 'info' : 'debug']('status', { runId: status.runId, status: status.status, seq: status.seq });
        publish(topics.run(status.runId, 'status'), status, true);
        if (changed) engineStatusSoon();
        if (status.completedAt) prune();
      },
      commands: (commands) => publish(topics.run(commands.runId, 'commands'), commands, true),
      // A protocol's publish and wait-for: messages for and from other instruments, under LABRUN_PROTOCOL_TOPICS.
      message: (topic, payload, retain) => publish(topic, payload, retain),
      subscribe: (topic) =>
        receiver.subscribe(topic, { qos: 1 }, (error) => {
          if (error) log.warn('could not subscribe for a wait-for', { topic, error: error.message });
        }),
      unsubscribe: (topic) => receiver.unsubscribe(topic),
    },
    journal,
    {
      // Nothing is acknowledged that a crash could take back: until the disk takes writes again the engine
      // refuses creates and actions, starts no command, and says so here and on engine/<id>/status.
      onUnwritable: (error) => {
        log.error('cannot write the journal: refusing creates and actions until it can (retrying every second)', { dir: journalDir, error: error.message });
        journalState = { writable: false, error: error.message, since: new Date().toISOString() };
        engine.setJournalWritable(`the engine cannot write its journal (${error.message}); nothing was changed: try again once its disk has room`);
        publishEngineStatus();
      },
      onWritable: () => {
        log.info('the journal can write again: taking creates and actions', { dir: journalDir });
        journalState = { writable: true, error: null, since: new Date().toISOString() };
        engine.setJournalWritable(null);
        publishEngineStatus();
      },
    },
  );
  const engine = new Engine({
    hardware,
    defaultDeviceId: config.DEVICE_ID,
    output,
    maxActiveRuns: config.LABRUN_MAX_ACTIVE_RUNS,
    protocolTopics: config.LABRUN_PROTOCOL_TOPICS,
    deviceTravel: (deviceId) => devices.state(deviceId)?.travel,
  });
  let journalState: EngineStatus['journal'] = { writable: true, error: null, since: new Date().toISOString() };
  const publishEngineStatus = () => {
    const status: EngineStatus = {
      engineId: config.ENGINE_ID,
      journal: journalState,
      activeRuns: engine.activeRuns(),
      maxActiveRuns: config.LABRUN_MAX_ACTIVE_RUNS,
      at: new Date().toISOString(),
    };
    publish(statusTopic, status, true);
  };
  // Runs start and finish by the thousand a second: their count is republished at most once a second.
  let engineStatusTimer: NodeJS.Timeout | null = null;
  const engineStatusSoon = () => {
    engineStatusTimer ??= setTimeout(() => {
      engineStatusTimer = null;
      publishEngineStatus();
    }, 1000);
  };

  /** Keep at most LABRUN_KEEP_RUNS runs: the oldest finished ones leave the engine, the disk and the broker. */
  const prune = () => {
    for (const runId of engine.pruneFinished(config.LABRUN_KEEP_RUNS)) {
      void journal.remove(runId);
      loggedStatus.delete(runId);
      publish(topics.run(runId, 'status'), '', true);
      publish(topics.run(runId, 'commands'), '', true);
      log.info('forgot an old run', { runId, keep: config.LABRUN_KEEP_RUNS });
    }
  };

  engine.restore(replayed.histories);
  prune();
  if (replayed.histories.length > 0) log.info('restored runs from the journal', { runs: replayed.histories.length, dir: journalDir });

  const routes = { engine, hardware, devices, engines: new OtherEngines(config.ENGINE_ID, log), log };
  const inbox = new Inbox<{ topic: string; payload: Buffer; retained: boolean }>(
    ({ topic, payload, retained }) => routeMessage(routes, topic, payload, retained),
    // A bug must not take the engine (and every run in it) down with it.
    (error, { topic }) => log.error('failed to handle a message', { topic, error: (error as Error).stack ?? String(error) }),
  );
  receiver.on('message', (topic, payload, packet) => inbox.push({ topic, payload, retained: packet.retain }));

  onShutdown(log, async () => {
    engine.dispose();
    output.dispose();
    if (engineStatusTimer) clearTimeout(engineStatusTimer);
    await output.drained();
    await journal.close();
    lock.release();
    await closeService(connection, onlineTopic);
  });
});
