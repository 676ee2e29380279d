#!/usr/bin/env node
// The engine service: wires the engine (libs/engine) to MQTT. It owns runs: takes run/+/create and
// run/+/actions, publishes run/<id>/status (retained) and run/<id>/events, and drives hardware over hw/<dev>/*.
import { topics, type EngineStatus, type RunStatusDocument } from '@labrun/contracts';
import path from 'node:path';
import { type DataDirLock, DataDirLocked, durableOutput, Engine, FileJournal, InterlockWatch, lockDataDir } from '@labrun/engine';
import { closeServer, closeService, connectService, createLogger, type Logger, onShutdown, runMain, type Listener } from '@labrun/service';
import { serveMetrics } from '@labrun/service/metrics';
import { loadConfig } from './config.js';
import { MqttHardwarePort } from './hardware-port.js';
import { Inbox } from './inbox.js';
import { EngineMetrics } from './metrics.js';
import { Fleet } from './fleet.js';
import { routeMessage, type Routes } from './routes.js';

const log = createLogger('engine');
const METRICS: Listener = { what: 'metrics (HTTP)', hostVar: 'METRICS_HOST', portVar: 'METRICS_PORT' };

runMain(log, async () => {
  const config = loadConfig();
  const onlineTopic = topics.engineOnline(config.ENGINE_ID);
  const statusTopic = topics.engineStatus(config.ENGINE_ID);
  // Prometheus metrics only when asked for (METRICS_PORT): without them nothing is collected at all.
  const metrics = config.METRICS_PORT === undefined ? undefined : new EngineMetrics();
  const metricsServer = metrics && (await serveMetrics(metrics.registry, METRICS, config.METRICS_HOST, config.METRICS_PORT!, log));
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
  const { journal, replayed } = await FileJournal.open(journalDir, {
    warn: (warning) => log.warn(`journal: ${warning}`),
    ...(metrics ? { onCommit: (commit) => metrics.journalCommitted(commit) } : {}),
  });
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
        [topics.allRuns('status')]: { qos: 1 },
        [topics.allHw('online')]: { qos: 1 },
        [topics.allHw('state')]: { qos: 1 },
        [hardware.replyTopic]: { qos: 1 },
        [topics.allEngines()]: { qos: 1 },
        [topics.allEngineStatuses()]: { qos: 1 },
      });
      // A broker that restarted without the session has forgotten what the runs' waits listen on.
      const waits = engine.listeningTopics();
      if (waits.length > 0) await receiver.subscribeAsync(Object.fromEntries(waits.map((topic) => [topic, { qos: 1 as const }])));
      if (!joined) {
        // The other engines' retained announcements arrive right after the subscription: only once they are in does
        // this engine know which of its devices it serves, and so which runs are its own to carry out and answer.
        await new Promise((resolve) => setTimeout(resolve, config.LABRUN_FLEET_SETTLE_MS));
        joined = true;
        fleetChanged();
        releaseEarly();
      }
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

  /** Every wait-for subscription asked for so far acknowledged (or given up on). */
  let subscribed: Promise<void> = Promise.resolve();

  const hardware = new MqttHardwarePort(publisher, config.ENGINE_ID, log);
  const onlineSince = new Date().toISOString();
  const fleet = new Fleet(config.ENGINE_ID, config.devices, onlineSince, log);
  /** Whether the engine has heard the other engines' announcements (a moment after its first connect). */
  let joined = false;
  const devices = new InterlockWatch();
  const loggedStatus = new Map<string, string>();
  /** Each run's lines carry its id first (a child logger per run, kept while the engine holds the run). */
  const runLogs = new Map<string, Logger>();
  const runLog = (runId: string) => runLogs.get(runId) ?? runLogs.set(runId, log.child({ runId })).get(runId)!;
  const output = durableOutput(
    {
      event: (event, json) => {
        log.debug('event', { runId: event.runId, seq: event.seq, type: event.type });
        metrics?.delivered(event);
        publish(topics.run(event.runId, 'events'), json ?? event, false);
      },
      status: (engineStatus) => {
        const status = { ...engineStatus, engineId: config.ENGINE_ID };
        // A line per change of status (paused, running, …); every republish only at debug level.
        const changed = loggedStatus.get(status.runId) !== status.status;
        loggedStatus.set(status.runId, status.status);
        if (changed) runLog(status.runId).info('status', { status: status.status, seq: status.seq, message: status.pause?.message ?? status.error?.message });
        else log.debug('status', { runId: status.runId, status: status.status, seq: status.seq });
        publish(topics.run(status.runId, 'status'), status, true);
        publishCurrent(status);
        if (changed) engineStatusSoon();
        if (status.completedAt) prune();
      },
      commands: (commands) => publish(topics.run(commands.runId, 'commands'), commands, true),
      // A protocol's publish and wait-for: messages for and from other instruments, under LABRUN_PROTOCOL_TOPICS.
      // A publish waits until the broker has acknowledged every wait-for subscription asked for before it: a
      // protocol that asks an instrument something and then waits for the answer hears an instrument that answers
      // at once (the subscription is on the receiving connection, the publish on the other).
      message: (topic, payload, retain) => void subscribed.then(() => publish(topic, payload, retain)),
      subscribe: (topic) => {
        const acknowledged = new Promise<void>((resolve) => {
          // Not held for ever by a broker that does not answer: the wait then hears what comes after.
          const timer = setTimeout(() => {
            log.warn('no answer to a wait-for subscription within 5 s: publishing anyway', { topic });
            resolve();
          }, 5000).unref();
          receiver.subscribe(topic, { qos: 1 }, (error) => {
            clearTimeout(timer);
            if (error) log.warn('could not subscribe for a wait-for', { topic, error: error.message });
            resolve();
          });
        });
        subscribed = Promise.all([subscribed, acknowledged]).then(() => undefined);
      },
      unsubscribe: (topic) => receiver.unsubscribe(topic),
    },
    journal,
    {
      // Nothing is acknowledged that a crash could take back: until the disk takes writes again the engine
      // refuses creates and actions, starts no command, and says so here and on engine/<id>/status.
      onUnwritable: (error) => {
        log.error('cannot write the journal: refusing creates and actions until it can (retrying every second)', { dir: journalDir, error: error.message });
        journalState = { writable: false, error: error.message, since: new Date().toISOString() };
        metrics?.setJournalWritable(false);
        engine.setJournalWritable(`the engine cannot write its journal (${error.message}); nothing was changed: try again once its disk has room`);
        publishEngineStatus();
      },
      onWritable: () => {
        log.info('the journal can write again: taking creates and actions', { dir: journalDir });
        journalState = { writable: true, error: null, since: new Date().toISOString() };
        metrics?.setJournalWritable(true);
        engine.setJournalWritable(null);
        publishEngineStatus();
      },
    },
  );
  /**
   * device/<id>/current: the status of the device's current run — the run that is on the device now, or, once it
   * has finished, until another starts. A run that starts while another is current waits its turn there.
   */
  const currentRun = new Map<string, { runId: string; finished: boolean }>();
  const publishCurrent = (status: RunStatusDocument) => {
    const current = currentRun.get(status.deviceId);
    const finished = status.completedAt !== null;
    // Another run is current while it is on the device; a finished run never takes over (an old one republished).
    if (current && current.runId !== status.runId && (!current.finished || finished)) return;
    currentRun.set(status.deviceId, { runId: status.runId, finished });
    publish(topics.deviceCurrent(status.deviceId), status, true);
  };

  const engine = new Engine({
    hardware,
    defaultDeviceId: config.defaultDeviceId,
    output,
    maxActiveRuns: config.LABRUN_MAX_ACTIVE_RUNS,
    protocolTopics: config.LABRUN_PROTOCOL_TOPICS,
    deviceTravel: (deviceId) => devices.state(deviceId)?.travel,
  });
  metrics?.countRuns(() => engine.list());
  let journalState: EngineStatus['journal'] = { writable: true, error: null, since: new Date().toISOString() };
  const publishEngineStatus = () => {
    const status: EngineStatus = {
      engineId: config.ENGINE_ID,
      devices: fleet.devices,
      standby: fleet.standby,
      onlineSince,
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
      runLogs.delete(runId);
      publish(topics.run(runId, 'status'), '', true);
      publish(topics.run(runId, 'commands'), '', true);
      log.info('forgot an old run', { runId, keep: config.LABRUN_KEEP_RUNS });
    }
  };

  // The runs in the journal come back device by device, once this engine knows it serves the device: the runs of a
  // device another engine serves now wait in the journal until this one takes the device over.
  let unrestored = replayed.histories;
  const restoreServed = () => {
    const now: typeof unrestored = [];
    const later: typeof unrestored = [];
    for (const events of unrestored) (events[0]?.type === 'run.created' && fleet.serves(events[0].deviceId) ? now : later).push(events);
    if (now.length === 0) return;
    unrestored = later;
    engine.restore(now);
    prune();
    log.info('restored runs from the journal', { runs: now.length, dir: journalDir, devices: fleet.devices.join(',') });
  };
  const fleetChanged = () => {
    if (!joined) return;
    const change = fleet.resolve();
    if (change.took.length === 0 && change.yielded.length === 0) return;
    restoreServed();
    publishEngineStatus();
  };

  const routes: Routes = {
    engine,
    hardware,
    devices,
    fleet,
    fleetChanged,
    defaultDeviceId: config.defaultDeviceId,
    unknownRunGraceMs: config.LABRUN_FLEET_SETTLE_MS,
    log,
  };
  // Until the engine has joined the fleet, creates and actions wait (what it serves decides who answers them).
  const inbox = new Inbox<{ topic: string; payload: Buffer; retained: boolean }>(
    ({ topic, payload, retained }) => routeMessage(routes, topic, payload, retained),
    // A bug must not take the engine (and every run in it) down with it.
    (error, { topic }) => log.error('failed to handle a message', { topic, error: (error as Error).stack ?? String(error) }),
  );
  const early: { topic: string; payload: Buffer; retained: boolean }[] = [];
  receiver.on('message', (topic, payload, packet) => {
    const message = { topic, payload, retained: packet.retain };
    if (!joined && (topic.endsWith('/create') || topic.endsWith('/actions')) && topic.startsWith('run/')) early.push(message);
    else inbox.push(message);
  });
  const releaseEarly = () => {
    for (const message of early.splice(0)) inbox.push(message);
  };

  onShutdown(log, async () => {
    engine.dispose();
    output.dispose();
    if (engineStatusTimer) clearTimeout(engineStatusTimer);
    await output.drained();
    await journal.close();
    lock.release();
    await closeService(connection, onlineTopic);
    if (metricsServer) {
      metricsServer.closeAllConnections();
      await closeServer(metricsServer);
    }
  });
});
