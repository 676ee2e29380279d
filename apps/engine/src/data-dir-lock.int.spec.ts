// One engine per data directory, with real engine processes: a second engine on the same LABRUN_DATA_DIR exits
// at once naming the directory and the first engine's pid; once the first is SIGKILLed a new one starts at once
// on its journal; and a clean stop leaves a journal the next engine reads without a word of warning. Also: a
// run whose journal lost events is logged as an error by the engine that restores it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appEntry, connectTestClient, startBroker, startProcess, startService, stopAll } from '@labrun/testkit';

describe('the data directory lock', () => {
  afterAll(stopAll);

  it('refuses a second engine on the same directory, lets a new one take over after a SIGKILL, and a clean stop is not torn', async () => {
    const broker = await startBroker();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-lock-int-'));
    const env = { MQTT_URL: broker.url, LABRUN_DATA_DIR: dataDir };
    const first = await startService('engine', { ...env, ENGINE_ID: 'lock-1' });

    const second = startProcess('engine', appEntry('engine'), { ...env, ENGINE_ID: 'lock-2' });
    expect(await second.exited()).toBe(3);
    expect(second.output()).toContain(`another engine (pid ${first.proc.pid} on ${os.hostname()}`);
    expect(second.output()).toContain(`is using the data directory ${path.resolve(dataDir)}`);
    expect(second.output()).not.toMatch(/ ready( |$)/m);

    const client = await connectTestClient(broker.url);
    await client.subscribe(['run/locked/status']);
    await client.publish('run/locked/create', { protocol: { schemaVersion: 1, metadata: { name: 'lock' }, commands: [{ type: 'comment', params: { message: 'hi' } }] } });
    await client.waitFor('run/locked/status', (m) => m.text !== '' && m.json().status === 'idle');

    await first.kill(); // SIGKILL: its lock stays behind, naming a dead process
    const third = await startService('engine', { ...env, ENGINE_ID: 'lock-1' });
    expect(third.output()).toMatch(/restored runs from the journal.*runs=1/);

    await third.stop(); // a clean stop
    const fourth = await startService('engine', { ...env, ENGINE_ID: 'lock-1' });
    expect(fourth.output()).toMatch(/restored runs from the journal.*runs=1/);
    expect(fourth.output()).not.toMatch(/journal: /); // no warning at all: nothing torn, nothing damaged
    await fourth.stop();
    await client.close();
  });

  it('logs an error naming a run that comes back from the journal with seqs missing', async () => {
    const broker = await startBroker();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-gap-int-'));
    fs.mkdirSync(path.join(dataDir, 'runs'));
    const at = '2026-11-24T10:00:00.000Z';
    const protocol = { schemaVersion: 1, metadata: { name: 'gap' }, commands: [{ type: 'pause', params: { message: 'wait' } }] };
    const accepted = (seq: number) => ({ type: 'action.accepted', runId: 'gap-1', seq, at, actionId: `a-${seq}`, action: 'play', by: null, message: null, mode: null });
    // Written as engines before the CRC wrote it, with seq 2 lost.
    const events = [{ type: 'run.created', runId: 'gap-1', seq: 1, at, deviceId: 'sim-1', protocol }, accepted(3)];
    fs.writeFileSync(path.join(dataDir, 'runs', 'journal-00000001.log'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const engine = await startService('engine', { MQTT_URL: broker.url, LABRUN_DATA_DIR: dataDir, ENGINE_ID: 'gap' });
    expect(engine.output()).toMatch(/ error journal: run gap-1 is missing seq 2: it is restored from its other 2 events \(up to seq 3\); check it before resuming it/);
    await engine.stop();
  });
});
