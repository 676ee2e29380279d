// The TLS listeners (mqtts, wss) with a throwaway self-signed certificate made by openssl for the test: clients
// that trust it get in (with a password), clients that do not are refused, and SIGHUP loads a renewed one.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { appEntry, commandExists, connectTestClient, requirement, startBroker, startProcess, stopAll, type BrokerProcess, type TestClient } from '@labrun/testkit';
import { addUser } from '@labrun/auth';

const hasOpenssl = requirement(commandExists('openssl'), 'openssl', 'install it (apt-get install openssl) to make a throwaway test certificate');
const hasMosquittoPub = requirement(commandExists('mosquitto_pub'), 'mosquitto_pub', 'install mosquitto-clients (apt-get install mosquitto-clients)');

/** A self-signed certificate for localhost and 127.0.0.1, valid for a day. */
function makeCertificate(cert: string, key: string): void {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'pipe' },
  );
}

const OPERATOR = { username: 'operator', password: 'operator-secret-1' };
const ADMIN = { username: 'admin', password: 'admin-secret-1' };

const clients: TestClient[] = [];
async function connect(url: string, options: mqtt.IClientOptions): Promise<TestClient> {
  const client = await connectTestClient(url, { reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

/** Connect once; resolve with the error that stopped it (or null once connected). */
function connectError(url: string, options: mqtt.IClientOptions): Promise<Error | null> {
  return new Promise((resolve) => {
    // A user's client id starts with its name (the broker refuses others: client-ids.ts).
    const clientId = options.username ? { clientId: `${options.username}-tls` } : {};
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...clientId, ...options });
    client.once('connect', () => client.end(true, () => resolve(null)));
    client.once('error', (error) => client.end(true, () => resolve(error)));
  });
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(stopAll);

describe.skipIf(!hasOpenssl)('TLS listeners', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let broker: BrokerProcess;
  let mqttsUrl: string;
  let wssUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-broker-tls-'));
    cert = path.join(dir, 'cert.pem');
    key = path.join(dir, 'key.pem');
    makeCertificate(cert, key);
    const authFile = path.join(dir, 'auth.json');
    await addUser(authFile, OPERATOR.username, 'operator', OPERATOR.password);
    await addUser(authFile, ADMIN.username, 'admin', ADMIN.password);
    broker = await startBroker({ LABRUN_AUTH_FILE: authFile, BROKER_TLS_PORT: '0', BROKER_WSS_PORT: '0', BROKER_TLS_CERT: cert, BROKER_TLS_KEY: key });
    const match = await broker.waitFor(/listening mqtt=(\S+) ws=(\S+) mqtts=(\S+) wss=(\S+)\n/);
    [mqttsUrl, wssUrl] = [match[3]!, match[4]!];
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the TLS URLs after the mqtt and ws ones on the listening line', () => {
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    expect(mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(wssUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/);
  });

  for (const [transport, url] of [
    ['mqtts', () => mqttsUrl],
    ['wss', () => wssUrl],
  ] as const) {
    it(`carries an operator's action over ${transport}, the certificate checked against itself as the CA`, async () => {
      const watcher = await connect(broker.url, ADMIN);
      await watcher.subscribe('run/+/actions');
      const operator = await connect(url(), { ...OPERATOR, ca: readFileSync(cert) });
      await operator.publish('run/r-tls/actions', `resume over ${transport}`);
      await watcher.waitFor('run/r-tls/actions', (m) => m.text === `resume over ${transport}`);
    });

    it(`connects over ${transport} without checking the certificate when told to (rejectUnauthorized: false)`, async () => {
      await connect(url(), { ...OPERATOR, rejectUnauthorized: false });
    });

    it(`is refused over ${transport} by a client that does not trust the certificate`, async () => {
      const error = await connectError(url(), OPERATOR);
      expect(error?.message).toMatch(/self[- ]signed certificate/);
    });

    it(`still needs a password over ${transport}`, async () => {
      const error = (await connectError(url(), { ca: readFileSync(cert) })) as (Error & { code?: number }) | null;
      expect(error?.code).toBe(5);
    });
  }

  it.skipIf(!hasMosquittoPub)('takes mosquitto_pub over mqtts with --cafile', async () => {
    const watcher = await connect(broker.url, ADMIN);
    await watcher.subscribe('run/+/actions');
    const port = new URL(mqttsUrl).port;
    const args = ['-h', '127.0.0.1', '-p', port, '--cafile', cert, '-V', 'mqttv311', '-q', '1', '-u', OPERATOR.username, '-P', OPERATOR.password];
    const result = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile('mosquitto_pub', [...args, '-t', 'run/r-tls/actions', '-m', 'resume from mosquitto_pub over TLS'], { timeout: 20_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr }),
      ),
    );
    expect(result).toEqual({ code: 0, output: '' });
    await watcher.waitFor('run/r-tls/actions', (m) => m.text === 'resume from mosquitto_pub over TLS');
  });

  it('loads a renewed certificate on SIGHUP, for new connections', async () => {
    const oldCa = readFileSync(cert);
    makeCertificate(cert, key);
    const newCa = readFileSync(cert);
    broker.proc.kill('SIGHUP');
    await broker.waitFor(/info reloaded the TLS certificate/);
    expect(await connectError(mqttsUrl, { ...OPERATOR, ca: newCa })).toBeNull();
    expect((await connectError(mqttsUrl, { ...OPERATOR, ca: oldCa }))?.message).toMatch(/self[- ]signed certificate|signature/);
  });
});

describe('TLS start-up refusals', () => {
  it('exits 2 naming the missing key, without listening', async () => {
    const proc = startProcess('broker', appEntry('broker'), { BROKER_PORT: '0', BROKER_WS_PORT: '0', BROKER_TLS_PORT: '0', BROKER_TLS_CERT: '/nonexistent/cert.pem' });
    expect(await proc.exited()).toBe(2);
    expect(proc.output()).toContain('BROKER_TLS_PORT is set, so the broker needs BROKER_TLS_KEY (its private key, PEM)');
    expect(proc.output()).not.toContain('listening');
  });

  it('exits 2 naming a certificate file that cannot be read', async () => {
    const proc = startProcess('broker', appEntry('broker'), {
      BROKER_PORT: '0',
      BROKER_WS_PORT: '0',
      BROKER_WSS_PORT: '0',
      BROKER_TLS_CERT: '/nonexistent/cert.pem',
      BROKER_TLS_KEY: '/nonexistent/key.pem',
    });
    expect(await proc.exited()).toBe(2);
    expect(proc.output()).toContain('BROKER_TLS_CERT="/nonexistent/cert.pem": the certificate file does not exist');
  });
});
