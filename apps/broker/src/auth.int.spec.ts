// The broker with an auth file, seen from real MQTT clients over TCP and WebSocket (MQTT.js and mosquitto_pub):
// who gets in, and for every role and every kind of topic, what it may publish and subscribe to.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandExists, connectTestClient, requirement, startBroker, stopAll, type BrokerProcess, type TestClient } from '@labrun/testkit';
import { addUser, removeUser } from '@labrun/auth';

const PASSWORDS = { viewer: 'viewer-secret-1', operator: 'operator-secret-1', service: 'service-secret-1', admin: 'admin-secret-1' };
type User = keyof typeof PASSWORDS;
const USERS = Object.keys(PASSWORDS) as User[];

const clients: TestClient[] = [];
async function login(url: string, user: User, options: mqtt.IClientOptions = {}): Promise<TestClient> {
  const client = await connectTestClient(url, { username: user, password: PASSWORDS[user], reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

/** Try to connect once: the CONNACK return code of a refusal, or 0 once connected (and closed again). */
function connackCode(url: string, options: mqtt.IClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    // A user's client id starts with its name (the broker refuses others: client-ids.ts).
    const clientId = options.username ? { clientId: `${options.username}-${Math.random().toString(16).slice(2, 10)}` } : {};
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...clientId, ...options });
    client.once('connect', () => client.end(true, () => resolve(0)));
    client.once('error', (error: Error & { code?: number }) => {
      client.end(true);
      if (typeof error.code === 'number') resolve(error.code);
      else reject(error);
    });
  });
}

/** The QoS the broker granted for one filter, or 128 (0x80) if it refused it. */
async function granted(client: TestClient, filter: string): Promise<number> {
  try {
    const [grant] = await client.client.subscribeAsync(filter, { qos: 1 });
    return grant!.qos;
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted[0]!;
    throw error;
  }
}

/** Poll until `check` says something (or fail after `timeoutMs`): for racing two outcomes without stray timers. */
async function until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = check();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The broker's warning that it discarded `topic` from `clientId`. */
const refusedLine = (clientId: string, topic: string) => new RegExp(`warn refused a publish clientId=${escape(clientId)} .*topic=${escape(topic)}\\n`);

/**
 * Publish `payload` on `topic` at QoS 1 (the PUBACK comes either way) and see what became of it: `delivered` to
 * the watching admin, or `discarded` as the broker's log says.
 */
async function publishOutcome(broker: BrokerProcess, watcher: TestClient, client: TestClient, topic: string, payload: string): Promise<'delivered' | 'discarded'> {
  await client.publish(topic, payload);
  const line = refusedLine(client.client.options.clientId!, topic);
  return until(`${payload} to be delivered or discarded`, () => {
    if (watcher.received.some((m) => m.topic === topic && m.text === payload)) return 'delivered' as const;
    if (line.test(broker.output())) return 'discarded' as const;
    return undefined;
  });
}

let dir: string;
let authFile: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-broker-auth-'));
  authFile = path.join(dir, 'auth.json');
  for (const user of USERS) await addUser(authFile, user, user, PASSWORDS[user]);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('a broker with an auth file', () => {
  let broker: BrokerProcess;
  /** An admin subscribed to everything, $SYS included: what reaches it reached the broker's subscribers. */
  let watcher: TestClient;
  beforeAll(async () => {
    // These tests log in wrongly on purpose; the login rate limit has a broker of its own below.
    broker = await startBroker({ LABRUN_AUTH_FILE: authFile, LABRUN_LOGIN_MAX_FAILURES: '0' });
    await broker.waitFor(/authentication on: .* users=4/);
  });
  beforeAll(async () => {
    watcher = await connectTestClient(broker.url, { username: 'admin', password: PASSWORDS.admin });
    await watcher.subscribe(['#', '$SYS/#']);
  });
  afterAll(async () => {
    await watcher?.close();
  });

  describe('logging in', () => {
    for (const [transport, url] of [
      ['TCP', () => broker.url],
      ['WebSocket', () => broker.wsUrl],
    ] as const) {
      it(`refuses a client without a user name over ${transport}: CONNACK 5, not authorized`, async () => {
        expect(await connackCode(url(), {})).toBe(5);
        expect(await connackCode(url(), { username: '' })).toBe(5);
        await broker.waitFor(/warn refused a client without a user name/);
      });

      it(`refuses a wrong password and an unknown user alike over ${transport}: CONNACK 4, bad user name or password`, async () => {
        expect(await connackCode(url(), { username: 'operator', password: 'operator-secret-2' })).toBe(4);
        expect(await connackCode(url(), { username: 'operator', password: '' })).toBe(4);
        expect(await connackCode(url(), { username: 'operator' })).toBe(4);
        expect(await connackCode(url(), { username: 'nobody', password: PASSWORDS.operator })).toBe(4);
        await broker.waitFor(/warn refused a client: wrong password .*user=operator/);
        await broker.waitFor(/warn refused a client: no such user .*user=nobody/);
      });

      it(`lets every user in with their password over ${transport}`, async () => {
        for (const user of USERS) expect(await connackCode(url(), { username: user, password: PASSWORDS[user] }), user).toBe(0);
      });
    }
  });

  describe('client ids', () => {
    it("refuses an operator who borrows the engine's client id (identifier rejected), and never kicks the engine", { timeout: 60_000 }, async () => {
      // The engine's receiving connection: a persistent session under the id labrun-engine-<ENGINE_ID>.
      const engine = await login(broker.url, 'service', { clientId: 'labrun-engine-engine-borrowed', clean: false });
      await engine.subscribe('run/+/actions');
      let engineClosed = 0;
      engine.client.on('close', () => engineClosed++);

      for (let attempt = 0; attempt < 7; attempt++) {
        expect(await connackCode(broker.url, { username: 'operator', password: PASSWORDS.operator, clientId: 'labrun-engine-engine-borrowed', clean: false })).toBe(2);
      }
      expect(await connackCode(broker.wsUrl, { username: 'admin', password: PASSWORDS.admin, clientId: 'labrun-engine-engine-borrowed', clean: false })).toBe(2);
      await broker.waitFor(/warn refused a client id the user does not own clientId=labrun-engine-engine-borrowed user=operator role=operator .*reserved for the labrun services/);

      // Still the same connection, still receiving: nothing of the borrowers' attempts reached its session.
      const operator = await login(broker.url, 'operator');
      await operator.publish('run/r-borrowed/actions', 'resume after the borrowing');
      await engine.waitFor('run/r-borrowed/actions', (m) => m.text === 'resume after the borrowing');
      expect(engineClosed).toBe(0);
      expect(engine.client.connected).toBe(true);
    });

    it("refuses another user's client id, and takes a user's own: its name, name-… and name:…", async () => {
      expect(await connackCode(broker.url, { username: 'operator', password: PASSWORDS.operator, clientId: 'viewer-dashboard' })).toBe(2);
      expect(await connackCode(broker.url, { username: 'operator', password: PASSWORDS.operator, clientId: 'mqttjs_1a2b3c4d' })).toBe(2);
      await broker.waitFor(/warn refused a client id the user does not own clientId=viewer-dashboard user=operator .*may only use client ids operator, operator-… or operator:…/);
      for (const clientId of ['operator', 'operator-bench-2', 'operator:lims']) {
        expect(await connackCode(broker.url, { username: 'operator', password: PASSWORDS.operator, clientId }), clientId).toBe(0);
      }
      // An empty id: the broker makes up one that nobody else has.
      expect(await connackCode(broker.url, { username: 'viewer', password: PASSWORDS.viewer, clientId: '', clean: true })).toBe(0);
    });
  });

  describe('publishing', () => {
    // Every kind of topic in the MQTT contract, one that is in none of it, and $SYS.
    const TOPICS = [
      'run/r-p/create',
      'run/r-p/actions',
      'run/r-p/status',
      'run/r-p/events',
      'run/r-p/commands',
      'hw/dev-p/requests',
      'hw/dev-p/state',
      'hw/dev-p/online',
      'engine/eng-p/online',
      'engine/eng-p/replies',
      'gateway/gw-p/online',
      'lab/notes',
      '$SYS/labrun/forged',
    ];
    const SERVICE = [
      'run/r-p/status',
      'run/r-p/events',
      'run/r-p/commands',
      'hw/dev-p/requests',
      'hw/dev-p/state',
      'hw/dev-p/online',
      'engine/eng-p/online',
      'engine/eng-p/replies',
      'gateway/gw-p/online',
      // Protocols' publish and wait-for, which the engine carries out.
      'lab/notes',
    ];
    const MAY_PUBLISH: Record<User, string[]> = {
      viewer: [],
      operator: ['run/r-p/create', 'run/r-p/actions'],
      service: ['run/r-p/create', 'run/r-p/actions', ...SERVICE],
      admin: TOPICS.filter((t) => !t.startsWith('$SYS')),
    };

    for (const [transport, url] of [
      ['TCP', () => broker.url],
      ['WebSocket', () => broker.wsUrl],
    ] as const) {
      it(`delivers what each role may publish over ${transport}, and discards the rest where no subscriber ever sees it`, { timeout: 120_000 }, async () => {
        const expected: Record<string, Record<string, string>> = {};
        const observed: Record<string, Record<string, string>> = {};
        const discarded: string[] = [];
        for (const user of USERS) {
          const client = await login(url(), user);
          expected[user] = {};
          observed[user] = {};
          for (const topic of TOPICS) {
            const payload = `${transport} ${user} → ${topic}`;
            expected[user][topic] = MAY_PUBLISH[user].includes(topic) ? 'delivered' : 'discarded';
            observed[user][topic] = await publishOutcome(broker, watcher, client, topic, payload);
            if (observed[user][topic] === 'discarded') discarded.push(payload);
          }
          // A refused publish is acknowledged and discarded: the client stays connected.
          expect(client.client.connected, `${user} still connected`).toBe(true);
        }
        expect(observed).toEqual(expected);

        // Later traffic gets through, and none of the discarded messages ever did.
        await watcher.publish('lab/sentinel', `after ${transport}`);
        await watcher.waitFor('lab/sentinel', (m) => m.text === `after ${transport}`);
        const seen = new Set(watcher.received.map((m) => m.text));
        expect(discarded.filter((p) => seen.has(p))).toEqual([]);
      });
    }

    it('keeps $SYS unwritable even for an admin, and keeps no retained copy of a discarded publish', async () => {
      const admin = await login(broker.url, 'admin');
      await admin.publish('$SYS/broker/uptime', 'forged', { retain: true });
      await broker.waitFor(refusedLine(admin.client.options.clientId!, '$SYS/broker/uptime'));
      const viewer = await login(broker.url, 'viewer');
      await viewer.publish('run/r-retain/status', 'forged', { retain: true });
      await broker.waitFor(refusedLine(viewer.client.options.clientId!, 'run/r-retain/status'));

      const late = await login(broker.url, 'admin');
      await late.subscribe(['$SYS/broker/uptime', 'run/r-retain/status']);
      await admin.publish('lab/sentinel', 'retained check');
      await watcher.waitFor('lab/sentinel', (m) => m.text === 'retained check');
      expect(late.received.map((m) => m.text)).not.toContain('forged');
      expect(watcher.received.map((m) => m.text)).not.toContain('forged');
    });
  });

  describe('subscribing', () => {
    const FILTERS = [
      'run/+/status',
      'run/+/events',
      'run/+/commands',
      'run/r-s/status',
      'run/+/create',
      'run/+/actions',
      'hw/+/state',
      'hw/+/online',
      'hw/+/requests',
      'engine/+/online',
      'engine/+/replies',
      'gateway/+/online',
      'run/+/+',
      'run/#',
      '+/+/status',
      '#',
      'lab/notes',
      '$SYS/#',
      '$labrun/#',
    ];
    const WATCH = ['run/+/status', 'run/+/events', 'run/+/commands', 'run/r-s/status', 'hw/+/state', 'hw/+/online', 'engine/+/online', 'gateway/+/online'];
    const MAY_SUBSCRIBE: Record<User, string[]> = {
      viewer: WATCH,
      operator: WATCH,
      service: [...WATCH, 'run/+/create', 'run/+/actions', 'hw/+/requests', 'engine/+/replies', 'lab/notes'],
      admin: FILTERS.filter((f) => f !== '$labrun/#'),
    };

    for (const [transport, url] of [
      ['TCP', () => broker.url],
      ['WebSocket', () => broker.wsUrl],
    ] as const) {
      it(`grants each role its filters over ${transport} and refuses any other with SUBACK 0x80`, { timeout: 60_000 }, async () => {
        const expected: Record<string, Record<string, number>> = {};
        const observed: Record<string, Record<string, number>> = {};
        for (const user of USERS) {
          const client = await login(url(), user);
          expected[user] = {};
          observed[user] = {};
          for (const filter of FILTERS) {
            expected[user][filter] = MAY_SUBSCRIBE[user].includes(filter) ? 1 : 128;
            observed[user][filter] = await granted(client, filter);
          }
          expect(client.client.connected, `${user} still connected`).toBe(true);
        }
        expect(observed).toEqual(expected);
      });
    }

    it('delivers nothing through a refused subscription', async () => {
      const viewer = await login(broker.url, 'viewer');
      expect(await granted(viewer, '#')).toBe(128);
      expect(await granted(viewer, 'run/+/actions')).toBe(128);
      expect(await granted(viewer, 'run/r-d/status')).toBe(1);
      const operator = await login(broker.url, 'operator');
      await operator.publish('run/r-d/actions', 'pause');
      await watcher.waitFor('run/r-d/actions', (m) => m.text === 'pause');
      await watcher.publish('run/r-d/status', 'paused');
      await viewer.waitFor('run/r-d/status');
      expect(viewer.received.map((m) => m.topic)).toEqual(['run/r-d/status']);
    });
  });

  describe('last wills', () => {
    it('refuses to connect a client whose will its user may not publish: CONNACK 5', async () => {
      const will = (topic: string) => ({ topic, payload: Buffer.from('false'), qos: 1 as const, retain: true });
      expect(await connackCode(broker.url, { username: 'viewer', password: PASSWORDS.viewer, will: will('run/r-w/actions') })).toBe(5);
      expect(await connackCode(broker.wsUrl, { username: 'operator', password: PASSWORDS.operator, will: will('hw/dev-w/online') })).toBe(5);
      expect(await connackCode(broker.url, { username: 'admin', password: PASSWORDS.admin, will: will('$SYS/labrun/will') })).toBe(5);
      await broker.waitFor(/warn refused a client whose last will it may not publish .*user=viewer role=viewer will=run\/r-w\/actions/);
      expect(await connackCode(broker.url, { username: 'service', password: PASSWORDS.service, will: will('hw/dev-w/online') })).toBe(0);
    });

    it("publishes a service's will when its connection drops", async () => {
      // Its own subscriber: Aedes 1.2 does not deliver a will to a client also subscribed to $SYS/+/disconnect/clients.
      const admin = await login(broker.url, 'admin');
      await admin.subscribe('hw/+/online');
      const service = await login(broker.url, 'service', { will: { topic: 'hw/dev-will/online', payload: Buffer.from('false'), qos: 1, retain: true } });
      await service.publish('hw/dev-will/online', 'true', { retain: true });
      await admin.waitFor('hw/dev-will/online', (m) => m.text === 'true');
      service.client.stream.destroy(); // as if the process died: no DISCONNECT
      expect((await admin.waitFor('hw/dev-will/online', (m) => m.text === 'false')).text).toBe('false');
    });
  });

  describe('mosquitto_pub', () => {
    const hasMosquittoPub = requirement(commandExists('mosquitto_pub'), 'mosquitto_pub', 'install mosquitto-clients (apt-get install mosquitto-clients)');
    const mosquittoPub = (args: string[]) =>
      new Promise<{ code: number; output: string }>((resolve) => {
        const { port } = new URL(broker.url);
        execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-V', 'mqttv311', '-q', '1', ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr }),
        );
      });

    it.skipIf(!hasMosquittoPub)('is refused without credentials, and says it is not authorised', async () => {
      const { code, output } = await mosquittoPub(['-t', 'run/r-m/actions', '-m', 'resume']);
      expect(code).not.toBe(0);
      expect(output).toMatch(/Connection Refused: not authori[sz]ed/i);
    });

    it.skipIf(!hasMosquittoPub)('is refused with a wrong password', async () => {
      const { code, output } = await mosquittoPub(['-u', 'operator', '-P', 'guessed-wrong', '-t', 'run/r-m/actions', '-m', 'resume']);
      expect(code).not.toBe(0);
      expect(output).toMatch(/Connection Refused: bad user name or password/i);
    });

    it.skipIf(!hasMosquittoPub)('is refused with a client id the user does not own: identifier rejected', async () => {
      const { code, output } = await mosquittoPub(['-u', 'operator', '-P', PASSWORDS.operator, '-i', 'labrun-engine-engine-1', '-t', 'run/r-m/actions', '-m', 'resume']);
      expect(code).not.toBe(0);
      expect(output).toMatch(/Connection Refused: identifier rejected/i);
    });

    // mosquitto_pub sends an empty client id unless given one (-i, -I): the broker makes up one nobody else has.
    it.skipIf(!hasMosquittoPub)('publishes an action as an operator', async () => {
      const { code, output } = await mosquittoPub(['-u', 'operator', '-P', PASSWORDS.operator, '-t', 'run/r-m/actions', '-m', 'resume from mosquitto_pub']);
      expect({ code, output }).toEqual({ code: 0, output: '' });
      await watcher.waitFor('run/r-m/actions', (m) => m.text === 'resume from mosquitto_pub');
    });

    it.skipIf(!hasMosquittoPub)("discards a viewer's action: acknowledged, and never delivered", async () => {
      const { code } = await mosquittoPub(['-u', 'viewer', '-P', PASSWORDS.viewer, '-i', 'viewer-mosquitto', '-t', 'run/r-m/actions', '-m', 'viewer resume']);
      expect(code).toBe(0);
      await broker.waitFor(refusedLine('viewer-mosquitto', 'run/r-m/actions'));
      await watcher.publish('lab/sentinel', 'after mosquitto_pub');
      await watcher.waitFor('lab/sentinel', (m) => m.text === 'after mosquitto_pub');
      expect(watcher.received.map((m) => m.text)).not.toContain('viewer resume');
    });
  });
});

describe('the login rate limit', () => {
  /** One CONNECT from 127.0.0.2 (a second machine, as far as the broker can tell): its CONNACK return code. */
  function connackFromElsewhere(url: string, options: mqtt.IClientOptions): Promise<number> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const client = new mqtt.MqttClient(() => createConnection({ host: hostname, port: Number(port), localAddress: '127.0.0.2' }), {
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        clientId: `${options.username}-elsewhere`,
        ...options,
      });
      client.once('connect', () => client.end(true, () => resolve(0)));
      client.once('error', (error: Error & { code?: number }) => {
        client.end(true);
        if (typeof error.code === 'number') resolve(error.code);
        else reject(error);
      });
    });
  }

  it('cuts off 200 wrong passwords from one address after 10, without checking them, and still lets the user in from another', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ LABRUN_AUTH_FILE: authFile });
    const codes: number[] = [];
    for (let attempt = 0; attempt < 200; attempt++) codes.push(await connackFromElsewhere(broker.url, { username: 'operator', password: `guess-${attempt}` }));
    // Ten checked and wrong (4), then refused at once as not authorized (5) for the block's 60 s.
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(4));
    expect(codes.slice(10)).toEqual(Array(190).fill(5));
    await broker.waitFor(/warn too many failed logins: refusing every login from 127\.0\.0\.2 for 60 s, without checking passwords .*failures=10 withinSeconds=60/);
    // Only ten passwords were ever checked: the rest never reached scrypt.
    expect(broker.output().match(/refused a client: wrong password/g)).toHaveLength(10);

    // The right password from the blocked address is refused too; from another address it gets in.
    expect(await connackFromElsewhere(broker.url, { username: 'operator', password: PASSWORDS.operator })).toBe(5);
    expect(await connackCode(broker.url, { username: 'operator', password: PASSWORDS.operator })).toBe(0);
    await broker.stop();
  });
});

describe('reloading the auth file on SIGHUP', () => {
  it('lets new users in, disconnects removed ones, and keeps the users it has when the file turns bad', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'reload.json');
    await addUser(file, 'ana', 'operator', 'ana-secret-1');
    await addUser(file, 'bob', 'viewer', 'bob-secret-1');
    const broker = await startBroker({ LABRUN_AUTH_FILE: file });
    expect(await connackCode(broker.url, { username: 'cy', password: 'cy-secret-1' })).toBe(4);

    await addUser(file, 'cy', 'viewer', 'cy-secret-1');
    await removeUser(file, 'bob');
    const bob = await connectTestClient(broker.url, { username: 'bob', password: 'bob-secret-1', reconnectPeriod: 0 });
    clients.push(bob);
    const bobClosed = new Promise<void>((resolve) => bob.client.once('close', () => resolve()));
    broker.proc.kill('SIGHUP');
    await broker.waitFor(/info reloaded the auth file .*users=2 disconnected=1/);
    await bobClosed;
    expect(await connackCode(broker.url, { username: 'cy', password: 'cy-secret-1' })).toBe(0);
    expect(await connackCode(broker.url, { username: 'bob', password: 'bob-secret-1' })).toBe(4);

    writeFileSync(file, '{ "users": ');
    broker.proc.kill('SIGHUP');
    await broker.waitFor(/error could not reload the auth file; the users loaded before stay in force .*is not valid JSON/);
    expect(await connackCode(broker.url, { username: 'ana', password: 'ana-secret-1' })).toBe(0);
    expect(broker.proc.exitCode).toBeNull();
    await broker.stop();
  });
});
