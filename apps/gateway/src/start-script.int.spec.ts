// `npm start` (scripts/start.mjs) as a user runs it: the whole system on free ports. It tells the labrun command
// where its broker is, and a service that crashes is started again instead of taking everything down. With the
// integrations configured (issue 15's "done when"), a run that pauses itself reaches a webhook, an e-mail inbox,
// /metrics and Home Assistant, and Home Assistant's Resume button resumes it. (One file: both tests write the
// repository's .labrun/npm-start.json, so they must not run side by side.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Changes, clientPool, freePort, promtoolAvailable, promtoolCheck, repoRoot, startMailbox, startWebhookReceiver } from '@labrun/testkit';

interface Started {
  proc: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<RegExpMatchArray>;
}

let started: Started | null = null;

async function npmStart(env: Record<string, string>): Promise<Started> {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs'), '--no-build'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const changes = new Changes();
  for (const stream of [proc.stdout!, proc.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      changes.notify();
    });
  }
  const waitFor = (pattern: RegExp, from = 0, timeoutMs = 30_000) =>
    changes.until(
      () => {
        const match = output.slice(from).match(pattern);
        if (match) return match;
        if (proc.exitCode !== null) throw new Error(`npm start exited (${proc.exitCode}) before printing ${pattern}:\n${output}`);
        return undefined;
      },
      timeoutMs,
      () => `npm start did not print ${pattern} within ${timeoutMs} ms:\n${output}`,
    );
  proc.on('exit', () => changes.notify());
  started = { proc, output: () => output, waitFor };
  return started;
}

const pool = clientPool();
const closers: (() => Promise<void>)[] = [];

describe('npm start', () => {
  afterEach(async () => {
    await pool.closeAll();
    for (const close of closers.splice(0).reverse()) await close();
    if (!started) return;
    const { proc } = started;
    started = null;
    if (proc.exitCode === null) {
      proc.kill('SIGINT');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('tells the labrun command where the broker is, and starts a crashed service again without stopping the rest', async () => {
    const [port, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-start-'));
    const system = await npmStart({ BROKER_PORT: String(port), BROKER_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), LABRUN_DATA_DIR: dataDir, DEVICE_ID: 'start-sim' });
    await system.waitFor(/labrun is running/, 0, 60_000);
    await system.waitFor(new RegExp(`npx labrun run examples/serial-dilution\\.json +# the labrun command finds this broker \\(elsewhere: MQTT_URL=mqtt://127\\.0\\.0\\.1:${port}\\)`));

    // The labrun command, with no MQTT_URL, reaches this broker (not whatever listens on 1883) and runs a protocol.
    const protocolFile = path.join(dataDir, 'hello.json');
    fs.writeFileSync(protocolFile, JSON.stringify({ schemaVersion: 1, metadata: { name: 'hello' }, commands: [{ type: 'comment', params: { message: 'hello' } }] }));
    const { MQTT_URL: _, ...withoutUrl } = process.env;
    const cli = spawnSync(process.execPath, [path.join(repoRoot, 'apps/cli/bin/labrun.js'), 'run', protocolFile], { cwd: repoRoot, env: withoutUrl, encoding: 'utf8', timeout: 30_000 });
    expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(0);
    expect(cli.stdout).toContain('succeeded');

    const [, pid] = await system.waitFor(/hardware started \(pid (\d+)\)/);
    const mark = system.output().length;
    process.kill(Number(pid), 'SIGKILL');
    await system.waitFor(/hardware stopped unexpectedly \(SIGKILL\); starting it again in 1 s \(restart 1 of at most 5 a minute\)/, mark);
    await system.waitFor(/hardware started \(pid \d+\)/, mark);
    await system.waitFor(/\[hardware\] .* ready/, mark);
    expect(system.output().slice(mark)).not.toMatch(/stopping everything|\[labrun\] stopping/);
    expect(system.proc.exitCode).toBeNull();

    // Ctrl-C still stops everything, cleanly.
    system.proc.kill('SIGINT');
    const code = await new Promise((r) => system.proc.once('exit', r));
    expect(code).toBe(0);
  }, 120_000);

  it('with a notify file and Home Assistant discovery: a run that pauses itself sends the webhook and the e-mail, shows paused in /metrics, and resumes from its discovered Resume button', async () => {
    const changes = new Changes();
    const onReceive = () => changes.notify();
    const hook = await startWebhookReceiver({ onReceive });
    closers.push(() => hook.close());
    // As a local relay usually is: it offers STARTTLS, with a self-signed certificate (smtp-server's own).
    const smtp = await startMailbox({ startTls: true, onReceive });
    closers.push(() => smtp.close());
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-integrations-'));
    closers.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const notifyFile = path.join(dataDir, 'notify.json');
    const notify = {
      on: ['paused', 'awaiting-recovery', 'failed'],
      webhooks: [{ url: `${hook.origin}/hooks/labrun` }],
      email: { smtp: `smtp://127.0.0.1:${smtp.port}`, from: 'labrun@lab.example', to: ['ana@lab.example'] },
    };
    fs.writeFileSync(notifyFile, JSON.stringify(notify));
    const [port, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const system = await npmStart({
      BROKER_PORT: String(port),
      BROKER_WS_PORT: String(wsPort),
      HTTP_PORT: String(httpPort),
      LABRUN_DATA_DIR: dataDir,
      DEVICE_ID: 'ha-sim',
      LABRUN_NOTIFY_FILE: notifyFile,
      LABRUN_HA_DISCOVERY: 'homeassistant',
    });
    await system.waitFor(/labrun is running/, 0, 60_000);
    expect(system.output()).toMatch(/\[notify\] +.* ready/);
    expect(system.output()).toMatch(/\[homeassistant\] +.* ready/);
    const client = await pool.connect(`mqtt://127.0.0.1:${port}`);

    // What Home Assistant sees: the device's entities, announced by MQTT discovery.
    await client.subscribe(['homeassistant/#', 'run/e2e-1/status']);
    const ofDevice = (m: { text: string }) => m.text !== '' && JSON.stringify(JSON.parse(m.text).device?.identifiers ?? []).includes('ha-sim');
    const resume = (await client.waitFor('homeassistant/button/#', (m) => ofDevice(m) && m.json().payload_press === 'resume', 30_000)).json();
    const sensor = (await client.waitFor('homeassistant/sensor/#', ofDevice, 30_000)).json();

    // A run that pauses itself, created and played as any MQTT client would.
    const protocol = {
      schemaVersion: 1,
      metadata: { name: 'Integrations' },
      commands: [
        { type: 'comment', params: { message: 'start' } },
        { type: 'pause', params: { message: 'Check the samples' } },
        { type: 'comment', params: { message: 'done' } },
      ],
    };
    await client.publish('run/e2e-1/create', { protocol, deviceId: 'ha-sim' });
    await client.waitFor('run/e2e-1/status', (m) => m.json().status === 'idle');
    await client.publish('run/e2e-1/actions', 'play');
    await client.waitFor('run/e2e-1/status', (m) => m.json().status === 'paused' && m.json().pause?.message === 'Check the samples');

    // The webhook and the e-mail carry the pause message.
    const webhook = await changes.until(
      () => hook.received.map((r) => r.body).find((b) => b.runId === 'e2e-1' && b.status === 'paused'),
      20_000,
      () => `no webhook for the pause: ${JSON.stringify(hook.received)}`,
    );
    expect(webhook).toMatchObject({ name: 'Integrations', deviceId: 'ha-sim', message: 'Check the samples', link: `http://127.0.0.1:${httpPort}/#run=e2e-1` });
    expect(webhook.text).toContain('Check the samples');
    const mail = await changes.until(
      () => smtp.mails[0],
      20_000,
      () => 'no e-mail arrived',
    );
    expect(mail.to).toEqual(['ana@lab.example']);
    expect(mail.parsed.subject).toContain('Check the samples');
    expect(mail.parsed.text).toContain('Check the samples');

    // Home Assistant's sensor reads the device's current run: paused.
    await client.subscribe(sensor.state_topic);
    expect((await client.waitFor(sensor.state_topic, (m) => m.text !== '')).json()).toMatchObject({ runId: 'e2e-1', status: 'paused' });

    // /metrics shows it paused, and Prometheus' own checker accepts the exposition.
    const metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
    expect(metrics.status).toBe(200);
    const exposition = await metrics.text();
    expect(exposition).toMatch(/^labrun_runs\{status="paused"\} 1$/m);
    if (promtoolAvailable()) expect(await promtoolCheck(exposition)).toEqual({ code: 0, problems: [] });

    // Pressing the discovered Resume button (its payload_press to its command_topic, as Home Assistant does) resumes it.
    await client.publish(resume.command_topic, resume.payload_press);
    const resumed = await client.waitFor('run/e2e-1/status', (m) => m.json().status === 'succeeded', 20_000);
    expect(resumed.json().progress).toEqual({ completed: 3, total: 3 });
    expect(hook.received.filter((r) => r.body.runId === 'e2e-1')).toHaveLength(1);

    // /openapi.json describes /runs and the actions.
    const openapi = (await (await fetch(`http://127.0.0.1:${httpPort}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown>; components: unknown };
    expect(openapi.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/runs', '/runs/{runId}', '/runs/{runId}/actions']));
    const actions = JSON.stringify(openapi.paths['/runs/{runId}/actions']) + JSON.stringify(openapi.components);
    for (const action of ['play', 'pause', 'resume', 'stop', 'skip-delay', 'retry', 'skip', 'home', 'unlock']) expect(actions).toContain(`"${action}"`);
  }, 120_000);
});
