// The built broker as users run it: MQTT over TCP and WebSocket, retained messages, and the ways it refuses to start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appEntry, connectTestClient, startBroker, startProcess, stopAll, type BrokerProcess, type TestClient } from '@labrun/testkit';

const clients: TestClient[] = [];
async function connect(url: string): Promise<TestClient> {
  const client = await connectTestClient(url);
  clients.push(client);
  return client;
}

/** Start the broker with ephemeral ports plus `env`, and wait for it to exit by itself. */
async function startExpectingExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = startProcess('broker', appEntry('broker'), { BROKER_HOST: '127.0.0.1', BROKER_PORT: '0', BROKER_WS_PORT: '0', ...env });
  const code = await proc.exited();
  return { code, output: proc.output() };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(stopAll);

describe('broker', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBroker();
  });

  it('prints where it listens and that it is ready', async () => {
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    await broker.waitFor(/ ready /);
  });

  it('delivers a message published over TCP to a TCP subscriber', async () => {
    const subscriber = await connect(broker.url);
    const publisher = await connect(broker.url);
    await subscriber.subscribe('run/r-1/events');
    await publisher.publish('run/r-1/events', { seq: 1, type: 'run.created' });
    expect((await subscriber.waitFor('run/r-1/events')).json()).toEqual({ seq: 1, type: 'run.created' });
  });

  it('delivers a retained message to a client that subscribes later', async () => {
    const publisher = await connect(broker.url);
    await publisher.publish('run/r-2/status', { runId: 'r-2', status: 'paused' }, { retain: true });
    const late = await connect(broker.url);
    await late.subscribe('run/+/status');
    const status = await late.waitFor('run/r-2/status');
    expect(status.retain).toBe(true);
    expect(status.json()).toEqual({ runId: 'r-2', status: 'paused' });
  });

  it('carries messages from TCP to WebSocket clients and back', async () => {
    const tcp = await connect(broker.url);
    const ws = await connect(broker.wsUrl);
    await tcp.subscribe('run/r-3/actions');
    await ws.subscribe('run/r-3/status');
    await tcp.publish('run/r-3/status', 'from tcp');
    await ws.publish('run/r-3/actions', 'resume');
    expect((await ws.waitFor('run/r-3/status')).text).toBe('from tcp');
    expect((await tcp.waitFor('run/r-3/actions')).text).toBe('resume');
  });

  it('survives a client that sends garbage, and warns about it', async () => {
    const socket = net.connect(Number(new URL(broker.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]));
    await broker.waitFor(/ warn (client|connection) error /);
    const subscriber = await connect(broker.url);
    await subscriber.subscribe('still/alive');
    await subscriber.publish('still/alive', 'yes');
    expect((await subscriber.waitFor('still/alive')).text).toBe('yes');
  });

  it('logs client connects and disconnects at debug level', async () => {
    const client = await connect(broker.url);
    const id = client.client.options.clientId!;
    await broker.waitFor(new RegExp(` debug client connected clientId=${id} `));
    await client.close();
    await broker.waitFor(new RegExp(` debug client disconnected clientId=${id}`));
  });

  it('stops cleanly on SIGTERM with clients still connected', async () => {
    const stopping = await startBroker();
    await connect(stopping.url);
    await connect(stopping.wsUrl);
    stopping.proc.kill('SIGTERM');
    expect(await stopping.exited()).toBe(0);
    expect(stopping.output()).toContain('stopping signal=SIGTERM');
  });
});

describe('broker start-up refusals', () => {
  it('exits 1 naming a busy TCP port, MQTT_URL and BROKER_PORT', async () => {
    const occupier = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => occupier.once('listening', resolve));
    const port = (occupier.address() as net.AddressInfo).port;
    try {
      const { code, output } = await startExpectingExit({ BROKER_PORT: String(port) });
      expect(code).toBe(1);
      expect(output).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(output).toContain(`MQTT_URL=mqtt://127.0.0.1:${port} npm start`);
      expect(output).toContain('BROKER_PORT=<n>');
      expect(output).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      occupier.close();
    }
  });

  it('exits 1 naming a busy WebSocket port and BROKER_WS_PORT', async () => {
    const occupier = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => occupier.once('listening', resolve));
    const port = (occupier.address() as net.AddressInfo).port;
    try {
      const { code, output } = await startExpectingExit({ BROKER_WS_PORT: String(port) });
      expect(code).toBe(1);
      expect(output).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(output).toContain('BROKER_WS_PORT=<n>');
    } finally {
      occupier.close();
    }
  });

  it('exits 2 naming BROKER_PORT when it is not a port', async () => {
    const { code, output } = await startExpectingExit({ BROKER_PORT: 'abc' });
    expect(code).toBe(2);
    expect(output).toContain('BROKER_PORT="abc"');
  });

  it('refuses a non-loopback host without an auth file or BROKER_ALLOW_ANONYMOUS=true', async () => {
    const { code, output } = await startExpectingExit({ BROKER_HOST: '0.0.0.0' });
    expect(code).toBe(2);
    expect(output).toContain('not a loopback address');
    expect(output).toContain('Set LABRUN_AUTH_FILE');
    expect(output).toContain('BROKER_ALLOW_ANONYMOUS=true');
    expect(output).not.toContain('listening');
  });

  describe('a bad LABRUN_AUTH_FILE', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-broker-refusals-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 2 naming a file that does not exist, and how to create it', async () => {
      const file = path.join(dir, 'missing.json');
      const { code, output } = await startExpectingExit({ LABRUN_AUTH_FILE: file });
      expect(code).toBe(2);
      expect(output).toContain(`LABRUN_AUTH_FILE: auth file ${file} does not exist`);
      expect(output).toContain(`user add <name> --role admin --file ${file}`);
      expect(output).not.toContain('listening');
    });

    it('exits 2 naming the file and what is wrong in it', async () => {
      const file = path.join(dir, 'wrong.json');
      writeFileSync(file, JSON.stringify({ users: { ana: { password: 'hunter2', role: 'root' } } }));
      const { code, output } = await startExpectingExit({ LABRUN_AUTH_FILE: file });
      expect(code).toBe(2);
      expect(output).toContain(`auth file ${file} is not valid:`);
      expect(output).toContain('users.ana.password: not a password hash');
      expect(output).toContain('users.ana.role: expected one of viewer, operator, service, admin');
      expect(output).not.toMatch(/\n\s+at /);
      expect(output).not.toContain('listening');
    });

    it('exits 2 for a file that is not JSON', async () => {
      const file = path.join(dir, 'broken.json');
      writeFileSync(file, '{ "users": { "ana": ');
      const { code, output } = await startExpectingExit({ LABRUN_AUTH_FILE: file });
      expect(code).toBe(2);
      expect(output).toContain(`auth file ${file} is not valid JSON`);
    });

    it('starts with an empty file, warning that nobody can log in, and refuses everyone', async () => {
      const file = path.join(dir, 'empty.json');
      writeFileSync(file, '{ "users": {} }', { mode: 0o644 });
      const broker = await startBroker({ LABRUN_AUTH_FILE: file });
      await broker.waitFor(/warn the auth file has no users, so every client will be refused/);
      await broker.waitFor(/warn the auth file can be read by other users of this machine: chmod 600 /);
      await expect(connectTestClient(broker.url, { username: 'ana', password: 'pipette-42', reconnectPeriod: 0 })).rejects.toThrow(/bad user ?name or password/i);
      await broker.stop();
    });
  });
});
