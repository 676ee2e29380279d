// End to end: `labrun user` and `labrun token` write the auth file, and the real broker and gateway read it —
// the users log in over MQTT, the token opens the HTTP API — and a viewer's action, which the broker discards,
// is explained rather than left as a bare timeout.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEntry, connectTestClient, startBroker, startProcess, startService, stopAll, type BrokerProcess } from '@labrun/testkit';

describe('labrun user and labrun token, with the real broker and gateway', () => {
  let dir: string;
  let file: string;
  let broker: BrokerProcess;

  /** A `labrun` process; `stdin` is written to it and closed. */
  const labrun = (args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) => {
    const proc = startProcess(`labrun ${args.slice(0, 2).join(' ')}`, appEntry('cli'), { LABRUN_AUTH_FILE: file, ...options.env }, args);
    proc.proc.stdin!.end(options.stdin ?? '');
    return proc;
  };
  const addUser = async (name: string, role: string, password: string) => {
    const add = labrun(['user', 'add', name, '--role', role, '--password-stdin'], { stdin: `${password}\n` });
    expect(await add.exited()).toBe(0);
    expect(add.output()).toBe(`added user ${name} (${role}) to ${file}\n`);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-cli-auth-it-'));
    file = path.join(dir, 'auth.json');
    await addUser('ana', 'operator', 'pipette-42');
    await addUser('vic', 'viewer', 'centrifuge-7');
    await addUser('gateway', 'service', 'gateway-password');
    broker = await startBroker({ LABRUN_AUTH_FILE: file });
  });

  afterAll(async () => {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds users the broker lets in with their password, and refuses with a wrong one', async () => {
    const list = labrun(['user', 'list']);
    expect(await list.exited()).toBe(0);
    expect(list.output()).toBe('ana operator\nvic viewer\ngateway service\n');

    const ana = await connectTestClient(broker.url, { username: 'ana', password: 'pipette-42', reconnectPeriod: 0 });
    await ana.close();
    const wrong = connectTestClient(broker.url, { username: 'ana', password: 'pipette-43', reconnectPeriod: 0 });
    await expect(wrong).rejects.toThrow(/Bad username or password/i);
    const nobody = connectTestClient(broker.url, { reconnectPeriod: 0 });
    await expect(nobody).rejects.toThrow(/Not authorized/i);
  });

  it('adds a token that the gateway takes, and removes it again', async () => {
    const add = labrun(['token', 'add', 'lims', '--role', 'operator']);
    expect(await add.exited()).toBe(0);
    const token = /^(lrt_[A-Za-z0-9_-]{43})$/m.exec(add.output())?.[1];
    expect(token, add.output()).toBeDefined();
    expect(add.output()).toContain(`added token lims (operator, acting as lims) to ${file}. This is the only time the token is shown`);

    const gateway = await startService('gateway', { MQTT_URL: broker.url, MQTT_USERNAME: 'gateway', MQTT_PASSWORD: 'gateway-password', HTTP_PORT: '0', LABRUN_AUTH_FILE: file });
    const http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    expect((await fetch(`${http}/runs`)).status).toBe(401);
    const withToken = await fetch(`${http}/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect(withToken.status).toBe(200);
    expect(await withToken.json()).toEqual({ data: [] });
    const session = await fetch(`${http}/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await session.json()).toEqual({ data: { authentication: true, token: 'lims', user: 'lims', role: 'operator' } });

    const list = labrun(['token', 'list']);
    expect(await list.exited()).toBe(0);
    expect(list.output()).toMatch(/^lims operator lims \S+Z\n$/);
    const remove = labrun(['token', 'remove', 'lims']);
    expect(await remove.exited()).toBe(0);
    expect((await fetch(`${http}/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('says that a viewer’s action may have been discarded by the broker when no engine answers it', async () => {
    const resume = labrun(['resume', 'r-anything'], { env: { MQTT_URL: broker.url, MQTT_USERNAME: 'vic', MQTT_PASSWORD: 'centrifuge-7' } });
    expect(await resume.exited()).toBe(5);
    expect(resume.output()).toBe(
      `labrun: no engine answered resume on run r-anything within 5 s: is an engine connected to ${broker.url}? Or the broker discarded it: ` +
        'you log in as vic (MQTT_USERNAME), and a broker with roles silently drops creates and actions from a user whose role may not ' +
        'publish them (a viewer). Ask for the operator role, or look for "refused a publish" in the broker\'s log.\n',
    );
    // The broker did refuse it, and says so in its log.
    await broker.waitFor(/refused a publish .*user=vic role=viewer topic=run\/r-anything\/actions/);
  });
});
