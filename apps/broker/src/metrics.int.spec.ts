// The broker's Prometheus metrics on BROKER_METRICS_PORT, scraped from the running process: clients, messages,
// refused logins, and its Redis connections going down and up; clean under promtool.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addUser } from '@labrun/auth';
import { connectTestClient, flushRedisDb, metricSample, promtoolAvailable, promtoolCheck, requirement, startBroker, startTcpProxy, stopAll, tcpReachable, type BrokerProcess } from '@labrun/testkit';

async function metricsUrl(broker: BrokerProcess): Promise<string> {
  return (await broker.waitFor(/metrics listening http=(\S+)/))[1]!;
}

const hasRedis = requirement(await tcpReachable('127.0.0.1', 6379), 'Redis on 127.0.0.1:6379', 'start it with `redis-server --daemonize yes`');

describe('the broker on BROKER_METRICS_PORT', () => {
  const db = 9 + Math.floor(Math.random() * 6);
  afterAll(async () => {
    await stopAll();
    if (hasRedis) await flushRedisDb(db);
  });

  it('counts clients, what they publish and the logins it refuses, in a text promtool accepts; no client id or topic as a label', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-broker-metrics-'));
    const authFile = path.join(dir, 'auth.json');
    await addUser(authFile, 'ana', 'operator', 'ana-secret-1');
    const broker = await startBroker({ LABRUN_AUTH_FILE: authFile, BROKER_METRICS_PORT: '0' });
    const url = await metricsUrl(broker);
    const ana = await connectTestClient(broker.url, { username: 'ana', password: 'ana-secret-1' });
    await ana.publish('run/m-1/actions', 'resume');
    await ana.publish('run/m-1/actions', 'resume', { qos: 0 });
    await expect(connectTestClient(broker.url, { username: 'ana', password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow();

    const response = await fetch(url);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(metricSample(text, 'labrun_broker_clients_connected')).toBe(1);
    expect(metricSample(text, 'labrun_broker_messages_received_total{qos="1"}')).toBeGreaterThanOrEqual(1);
    expect(metricSample(text, 'labrun_broker_messages_received_total{qos="0"}')).toBeGreaterThanOrEqual(1);
    expect(metricSample(text, 'labrun_broker_logins_refused_total')).toBe(1);
    expect(metricSample(text, 'labrun_broker_clients_cut_off_total')).toBe(0);
    expect(text).toContain('labrun_broker_process_cpu_seconds_total');
    expect(text).not.toMatch(/run\/m-1|ana-test/);
    if (promtoolAvailable()) expect(await promtoolCheck(text)).toEqual({ code: 0, problems: [] });
    await ana.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasRedis)('says when a Redis connection is lost and when it is back', async () => {
    await flushRedisDb(db);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    try {
      const broker = await startBroker({ BROKER_REDIS_URL: `redis://127.0.0.1:${proxy.port}/${db}`, BROKER_METRICS_PORT: '0' });
      const url = await metricsUrl(broker);
      const redisUp = async () => {
        const text = await (await fetch(url)).text();
        return ['store', 'subscribe', 'publish'].map((c) => metricSample(text, `labrun_broker_redis_connected{connection="${c}"}`));
      };
      expect(await redisUp()).toEqual([1, 1, 1]);
      await proxy.cut();
      await expect.poll(redisUp, { timeout: 10_000 }).toEqual([0, 0, 0]);
      await proxy.restore();
      await expect.poll(redisUp, { timeout: 15_000 }).toEqual([1, 1, 1]);
    } finally {
      await proxy.close();
    }
  });
});
