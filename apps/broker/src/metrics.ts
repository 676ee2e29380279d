// The broker's Prometheus metrics (served on BROKER_METRICS_PORT): who is connected, what clients publish, who is
// cut off or refused, and whether its Redis connections are up. No client id or topic is a label.
import type { Aedes } from 'aedes';
import { Counter, Gauge } from 'prom-client';
import { createMetricsRegistry } from '@labrun/service/metrics';
import { refusedLogin } from './client-log.js';
import { REDIS_CONNECTIONS, type RedisConnection } from './redis.js';

export class BrokerMetrics {
  readonly registry = createMetricsRegistry('labrun_broker_');
  private readonly received: Counter<'qos'>;
  private readonly cutOff: Counter;
  private readonly refusedLogins: Counter;
  private readonly redisUp: Gauge<'connection'>;
  private readonly retainedWriteFailures: Counter;

  constructor(broker: Aedes, redis: boolean) {
    const registers = [this.registry];
    new Gauge({
      name: 'labrun_broker_clients_connected',
      help: 'MQTT clients connected to this broker now (every listener).',
      registers,
      collect() {
        this.set(broker.connectedClients);
      },
    });
    this.received = new Counter({ name: 'labrun_broker_messages_received_total', help: 'PUBLISH packets received from clients, by QoS.', labelNames: ['qos'], registers });
    for (const qos of ['0', '1', '2']) this.received.inc({ qos }, 0);
    this.cutOff = new Counter({ name: 'labrun_broker_clients_cut_off_total', help: 'Clients disconnected for not reading: more than BROKER_MAX_CLIENT_BACKLOG_BYTES waited for them.', registers });
    this.refusedLogins = new Counter({
      name: 'labrun_broker_logins_refused_total',
      help: 'Connections refused at login (a wrong password, an unknown user, a client id the user does not own).',
      registers,
    });
    this.redisUp = new Gauge({ name: 'labrun_broker_redis_connected', help: 'With BROKER_REDIS_URL: 1 while each Redis connection is up, 0 while it is lost.', labelNames: ['connection'], registers });
    this.retainedWriteFailures = new Counter({ name: 'labrun_broker_retained_write_failures_total', help: 'Retained messages delivered but not kept in Redis.', registers });
    if (redis) for (const connection of REDIS_CONNECTIONS) this.redisUp.set({ connection }, 1);
    broker.on('publish', (packet, client) => {
      if (client) this.received.inc({ qos: String(packet.qos) });
    });
    broker.on('clientError', (_client, error) => {
      if (refusedLogin(error)) this.refusedLogins.inc();
    });
    broker.on('connectionError', (_client, error) => {
      if (refusedLogin(error)) this.refusedLogins.inc();
    });
  }

  clientCutOff(): void {
    this.cutOff.inc();
  }

  redisConnection(connection: RedisConnection, up: boolean): void {
    this.redisUp.set({ connection }, up ? 1 : 0);
  }

  retainedWriteFailed(): void {
    this.retainedWriteFailures.inc();
  }
}
