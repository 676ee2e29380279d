// The gateway's Prometheus metrics, `GET /metrics`: the runs by status and how long they wait, the devices online,
// the actions answered and how long the engine took — all from what the gateway follows on the broker, with no
// run id as a label. Needs the `watch` access of every read endpoint: with an auth file, Prometheus scrapes with a
// viewer token (README "Prometheus").
import { parseRunTopic, topics } from '@labrun/contracts';
import { actionAnswerLabels, createMetricsRegistry } from '@labrun/service/metrics';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ActionTimer } from './action-timing.js';
import type { BrokerCache, CacheUpdate } from './broker-cache.js';
import { HELD_STATUSES, RunTally } from './run-tally.js';
import type { Answer, ApiContext } from './http-api.js';
import { notFound } from './http-error.js';

/** The engine answers in about a millisecond; the top buckets are for one that is busy or far away. */
const RESPONSE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsClocks {
  /** Monotonic milliseconds, for response times. */
  monotonic: () => number;
  /** Milliseconds since the epoch, to compare with the engine's timestamps. */
  wall: () => number;
}

const systemClocks: MetricsClocks = { monotonic: () => performance.now(), wall: () => Date.now() };

/** The subscription that lets the gateway time actions from any client (the service role may make it). */
export const ACTION_SUBSCRIPTIONS = [topics.allRuns('actions')];

export class GatewayMetrics {
  readonly registry: Registry = createMetricsRegistry('labrun_gateway_');
  private readonly tally = new RunTally();
  private readonly actions = new Counter({
    name: 'labrun_actions_total',
    help: 'Actions answered by the engines (action.accepted / action.rejected events), by action type and result, a rejection also by its code',
    labelNames: ['type', 'result', 'code'],
    registers: [this.registry],
  });
  private readonly responseTime = new Histogram({
    name: 'labrun_action_response_seconds',
    help: 'Time from an action on run/<id>/actions to the event that answers it, as the gateway sees them (by action id; actions without one by order, per run and type)',
    labelNames: ['type'],
    buckets: RESPONSE_BUCKETS,
    registers: [this.registry],
  });
  private readonly unanswered: Counter;
  private readonly timer = new ActionTimer();

  constructor(
    cache: BrokerCache,
    brokerConnected: () => boolean,
    private readonly clocks: MetricsClocks = systemClocks,
  ) {
    cache.follow((update) => this.follow(update));
    const { tally, registry, timer } = this;
    this.unanswered = new Counter({
      name: 'labrun_actions_unanswered_total',
      help: 'Actions seen on run/<id>/actions that no answer matched within 60 s (or that were dropped with 10000 waiting)',
      registers: [registry],
      collect() {
        this.inc(timer.expire(clocks.monotonic())); // a scrape is as good a moment as any to let go of them
      },
    });
    new Gauge({
      name: 'labrun_runs',
      help: 'Runs by status, from their retained run/<id>/status (every status listed, 0 when none)',
      labelNames: ['status'],
      registers: [registry],
      collect() {
        for (const [status, count] of Object.entries(tally.countByStatus())) this.set({ status }, count);
      },
    });
    new Counter({
      name: 'labrun_paused_seconds_total',
      help: `Run-seconds spent waiting (${HELD_STATUSES.join(', ')}), added when each wait ends`,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(tally.heldSeconds);
      },
    });
    new Gauge({
      name: 'labrun_oldest_pause_seconds',
      help: `How long the longest wait going on now (${HELD_STATUSES.join(', ')}) has lasted; 0 when no run waits`,
      registers: [registry],
      collect() {
        this.set(tally.longestHold(clocks.wall()));
      },
    });
    new Gauge({
      name: 'labrun_devices_online',
      help: 'Devices whose hardware service says it is online (hw/<id>/online)',
      registers: [registry],
      collect() {
        this.set(cache.listDevices().filter((d) => d.online).length);
      },
    });
    new Gauge({
      name: 'labrun_device_online',
      help: 'Each device known (from its hardware service, an engine or a run): 1 while its hardware service is online, else 0',
      labelNames: ['device'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { deviceId, online } of cache.listDevices()) this.set({ device: deviceId }, online ? 1 : 0);
      },
    });
    new Gauge({
      name: 'labrun_gateway_broker_connected',
      help: '1 while the gateway is connected to the MQTT broker, else 0',
      registers: [registry],
      collect() {
        this.set(brokerConnected() ? 1 : 0);
      },
    });
  }

  /** Take a message from run/+/actions in; false for any other topic (it is the cache's). */
  receiveAction(topic: string, payload: Uint8Array, retained: boolean): boolean {
    if (!topic.startsWith('run/') || !topic.endsWith('/actions')) return false;
    const parsed = parseRunTopic(topic);
    // A retained action is an old one the broker kept (labrun's broker refuses them): nothing to time.
    if (retained || !parsed.ok) return true;
    const now = this.clocks.monotonic();
    this.unanswered.inc(this.timer.expire(now) + this.timer.seen(parsed.value.runId, payload, now));
    return true;
  }

  /** The text Prometheus reads. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  private follow(update: CacheUpdate): void {
    if (update.kind === 'status') this.tally.update(update.status);
    else if (update.kind === 'run-removed') this.tally.remove(update.runId);
    else if (update.kind === 'event') {
      const { event } = update;
      if (event.type !== 'action.accepted' && event.type !== 'action.rejected') return;
      this.actions.inc({ ...actionAnswerLabels(event)! });
      const seconds = this.timer.answered(event, this.clocks.monotonic());
      if (seconds !== null) this.responseTime.observe({ type: actionAnswerLabels(event)!.type }, seconds);
    }
  }
}

/** `GET /metrics`: the gateway's metrics in Prometheus' text format; 404 when the gateway was started without them. */
export async function getMetrics({ metrics }: ApiContext): Promise<Answer> {
  if (!metrics) throw notFound('no such endpoint: this gateway collects no metrics');
  const body = Buffer.from(await metrics.scrape());
  return { status: 200, file: { body, contentType: metrics.registry.contentType }, headers: { 'cache-control': 'no-store' } };
}
