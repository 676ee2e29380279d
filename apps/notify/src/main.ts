// The notify service: follows every run's retained status (run/+/status) and, when a run changes to a status the
// notify file lists, tells the file's webhooks and e-mail addresses — once per change, across restarts.
import { randomUUID } from 'node:crypto';
import { RunStatusDocument, decodePayload, parseRunTopic, topics, type DecodeLimits } from '@labrun/contracts';
import { connectWatcher, createLogger, loggableUrl, onShutdown, runMain } from '@labrun/service';
import { decide, fingerprint } from './changes.js';
import { loadConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { buildNotification } from './message.js';
import { NotifyState } from './state-file.js';
import { emailTargets, webhookTarget } from './targets.js';

const log = createLogger('notify');

/** A status document is small; this only keeps a hostile payload from costing memory or stack. */
const STATUS_LIMITS: DecodeLimits = { maxBytes: 256 * 1024, maxDepth: 8 };

runMain(log, async () => {
  const config = loadConfig();
  const { notify } = config;
  const targets = [...notify.webhooks.map((hook, i) => webhookTarget(hook, i, notify.timeoutMs)), ...(notify.email ? emailTargets(notify.email, notify.timeoutMs) : [])];
  const state = NotifyState.open(config.LABRUN_NOTIFY_STATE, log);
  const dispatcher = new Dispatcher(targets, notify.retry, state, log);
  log.info('notifying', { on: notify.on, targets: targets.map((t) => t.label), state: config.LABRUN_NOTIFY_STATE, dashboard: notify.dashboardUrl });
  dispatcher.resume();

  /** What this process last saw of each run; a run not seen yet starts from what was last notified about it. */
  const seen = new Map<string, string>();

  const onStatus = (topic: string, payload: Buffer) => {
    const where = parseRunTopic(topic);
    if (!where.ok || where.value.kind !== 'status') return;
    if (payload.byteLength === 0) return; // a retained status cleared: the run was forgotten
    const read = decodePayload(RunStatusDocument, payload, STATUS_LIMITS);
    if (!read.ok) return log.warn('ignored an unreadable status', { topic, error: read.error });
    const doc = read.value;
    if (doc.runId !== where.value.runId) return log.warn('ignored a status published under another run id', { topic, runId: doc.runId });
    const last = seen.get(doc.runId) ?? state.lastFingerprint(doc.runId);
    const decision = decide(doc, { last, on: notify.on, recorded: (key) => state.has(key), recentMs: notify.recentSeconds * 1000, now: Date.now() });
    seen.set(doc.runId, fingerprint(doc));
    if (!decision.notify) return log.debug('not notifying', { runId: doc.runId, seq: doc.seq, status: doc.status, why: decision.why });
    const notification = buildNotification(doc, notify.dashboardUrl);
    state.record(decision.key, notification, fingerprint(doc), dispatcher.targetIds);
    log.info('run needs attention: notifying', { runId: doc.runId, seq: doc.seq, status: doc.status, message: notification.message });
    dispatcher.dispatch(decision.key);
  };

  // One receiving connection: this service publishes nothing (so a `viewer` user is enough, and it has no
  // `online` flag or last will of its own). Every (re)connect subscribes again; the broker then sends each run's
  // retained status, and what was already notified is recognised.
  const client = connectWatcher({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    clientId: `labrun-notify-${config.NOTIFY_ID}-${randomUUID().slice(0, 8)}`,
    log,
  });
  client.on('connect', () => {
    client.subscribeAsync(topics.allRuns('status'), { qos: 1 }).then(
      (granted) => {
        if (granted.some((g) => g.qos === 128))
          return log.error(`the broker refused the subscription to ${topics.allRuns('status')}: give this service a user that may watch runs (the viewer role is enough)`);
        log.info('ready', { url: loggableUrl(config.MQTT_URL) });
      },
      (error: Error) => log.error('could not subscribe', { error: error.message }),
    );
  });
  client.on('message', onStatus);

  onShutdown(log, async () => {
    await client.endAsync(true).catch(() => undefined);
    await dispatcher.close();
  });
});
