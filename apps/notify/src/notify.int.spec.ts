// The built notify service as a real process, against labrun's broker, engine and hardware simulator, a real HTTP
// server as the webhook and a real SMTP server (smtp-server) as the mail relay.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RunStatusDocument } from '@labrun/contracts';
import { buildRoot, freePort, startMailbox, startProcess, startSimulatedLab, startWebhookReceiver, type Mailbox, type ServiceProcess, type SimulatedLab, type WebhookReceiver } from '@labrun/testkit';

const WEBHOOK_SECRET = 'T000-SECRET-PATH';
const QUERY_SECRET = 'QUERY-SECRET';
const SMTP_USER = 'labmail';
const SMTP_PASSWORD = 'SMTP-SECRET-PW';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A webhook receiver whose URL carries secrets in its path and query, as a Slack webhook's does. */
async function startHook(answer: (n: number) => number = () => 200): Promise<WebhookReceiver & { url: string }> {
  const receiver = await startWebhookReceiver({ answer });
  return { ...receiver, url: `${receiver.origin}/services/${WEBHOOK_SECRET}?token=${QUERY_SECRET}` };
}

/** A real SMTP server (no TLS, so the test needs no certificate) that wants a login. */
const startLoginMailbox = () => startMailbox({ login: { user: SMTP_USER, password: SMTP_PASSWORD } });

let lab: SimulatedLab;
let dir: string;
const hooks: WebhookReceiver[] = [];
const mailboxes: Mailbox[] = [];
const started: ServiceProcess[] = [];

beforeAll(async () => {
  lab = await startSimulatedLab('notify');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-notify-'));
}, 60_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
  await Promise.all(hooks.splice(0).map((h) => h.close()));
  await Promise.all(mailboxes.splice(0).map((m) => m.close()));
});

afterAll(async () => {
  await lab?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Write a notify file and start the built service with it; `state` names its state file (fresh by default). */
async function startNotify(file: object, state = path.join(dir, `state-${randomUUID()}.json`), wait = true): Promise<ServiceProcess & { state: string }> {
  const fileName = path.join(dir, `notify-${randomUUID()}.json`);
  fs.writeFileSync(fileName, JSON.stringify(file));
  const entry = path.join(buildRoot(), 'apps', 'notify', 'dist', 'main.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: build first (npx nx run-many -t build)`);
  const proc = startProcess('notify', entry, { MQTT_URL: lab.broker.url, LABRUN_NOTIFY_FILE: fileName, LABRUN_NOTIFY_STATE: state });
  started.push(proc);
  if (wait) await proc.waitFor(/ ready( |$)/m, 30_000);
  return Object.assign(proc, { state });
}

const FAST_RETRY = { attempts: 3, initialDelayMs: 100, maxDelayMs: 400 };

/** A status document as the engine publishes it, `ageMs` old. */
function statusDoc(runId: string, status: RunStatusDocument['status'], seq: number, message: string, ageMs = 0): RunStatusDocument {
  const at = new Date(Date.now() - ageMs).toISOString();
  const pause = status === 'paused' ? { source: 'protocol' as const, message, since: at, by: null } : null;
  return RunStatusDocument.parse({
    runId,
    name: 'Plate wash',
    deviceId: 'sim-x',
    status,
    pause: pause && { ...pause, reasons: [pause] },
    interlock: null,
    delay: null,
    current: null,
    progress: { completed: 0, total: 2 },
    allowedActions: [],
    error: status === 'failed' ? { code: 'alarm', message, commandIndex: 0 } : null,
    recovery: null,
    createdAt: at,
    startedAt: at,
    completedAt: null,
    seq,
    updatedAt: at,
  });
}

const publishStatus = (doc: RunStatusDocument) => lab.client.publish(`run/${doc.runId}/status`, doc, { retain: true });

function expectNoSecrets(output: string) {
  expect(output).not.toContain(WEBHOOK_SECRET);
  expect(output).not.toContain(QUERY_SECRET);
  expect(output).not.toContain(SMTP_PASSWORD);
}

describe('notify service', () => {
  it('tells a webhook and an e-mail address when a run pauses itself, once, also across a restart', async () => {
    const hook = await startHook();
    const mailbox = await startLoginMailbox();
    hooks.push(hook);
    mailboxes.push(mailbox);
    const file = {
      on: ['paused', 'awaiting-recovery', 'failed'],
      webhooks: [{ url: hook.url, headers: { 'X-Lab': 'bench-3' } }],
      email: { smtp: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${mailbox.port}`, from: 'labrun <lab@example.org>', to: ['ana@example.org'] },
      dashboardUrl: 'http://lab.example.org:8080',
    };
    const notify = await startNotify(file);
    const runId = await lab.create(
      [
        { type: 'pause', params: { message: 'Check the samples' } },
        { type: 'comment', params: { message: 'done' } },
      ],
      {
        protocol: { metadata: { name: 'Serial dilution' } },
      },
    );
    const paused = await lab.client.waitFor(`run/${runId}/status`, (m) => m.json().status === 'paused', 20_000);
    const seq = paused.json().seq as number;

    const request = await until('the webhook', () => hook.received[0]);
    expect(request.path).toBe(`/services/${WEBHOOK_SECRET}?token=${QUERY_SECRET}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-lab']).toBe('bench-3');
    expect(request.body).toEqual({
      runId,
      name: 'Serial dilution',
      deviceId: lab.deviceId,
      status: 'paused',
      message: 'Check the samples',
      seq,
      at: paused.json().updatedAt,
      link: `http://lab.example.org:8080/#run=${runId}`,
      text: `:pause_button: Run *Serial dilution* (${runId}) on ${lab.deviceId} is paused: Check the samples <http://lab.example.org:8080/#run=${runId}>`,
    });

    const mail = await until('the e-mail', () => mailbox.mails[0]?.parsed);
    expect(mailbox.logins).toEqual([SMTP_USER]);
    expect(mail.subject).toBe(`labrun: Serial dilution (${runId}) paused — Check the samples`);
    expect(mail.text).toContain('Check the samples');
    expect(mail.text).toContain(`http://lab.example.org:8080/#run=${runId}`);
    expect((mail.to as { text: string }).text).toBe('ana@example.org');
    await notify.waitFor(new RegExp(`notified key=${runId}:${seq} .*target="e-mail to ana@example.org`));
    await notify.waitFor(new RegExp(`notified key=${runId}:${seq} .*target="webhook 1 \\(http://127\\.0\\.0\\.1:\\d+\\)"`));

    // Restarted on its state, it gets the retained `paused` again and recognises it.
    await notify.stop();
    const again = await startNotify(file, notify.state);
    await again.waitFor(new RegExp(`not notifying runId=${runId} seq=${seq} status=paused why="no change"`));
    await sleep(500);
    expect(hook.received).toHaveLength(1);
    expect(mailbox.mails).toHaveLength(1);

    // Resumed, it runs to the end: neither running nor succeeded is listed in "on".
    await lab.client.publish(`run/${runId}/actions`, 'resume');
    await lab.client.waitFor(`run/${runId}/status`, (m) => m.json().status === 'succeeded', 20_000);
    await again.waitFor(new RegExp(`not notifying runId=${runId} seq=\\d+ status=succeeded`));
    expect(hook.received).toHaveLength(1);
    expectNoSecrets(notify.output() + again.output());
  });

  it('retries a webhook that answers 500 twice and sends it once; a dead target is logged and holds up nobody', async () => {
    const flaky = await startHook((n) => (n <= 2 ? 500 : 200));
    const good = await startHook();
    const mailbox = await startLoginMailbox();
    hooks.push(flaky, good);
    mailboxes.push(mailbox);
    const dead = await freePort();
    const notify = await startNotify({
      on: ['failed'],
      webhooks: [{ url: `http://127.0.0.1:${dead}/services/${WEBHOOK_SECRET}` }, { url: flaky.url }, { url: good.url }],
      email: { smtp: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${mailbox.port}`, from: 'lab@example.org', to: ['ana@example.org', 'ben@example.org'] },
      retry: FAST_RETRY,
    });
    const runId = `notify-fail-${randomUUID().slice(0, 8)}`;
    await publishStatus(statusDoc(runId, 'running', 3, ''));
    await publishStatus(statusDoc(runId, 'failed', 4, 'ALARM:1 hard limit'));

    await until('the good webhook', () => good.received[0]);
    await until('two e-mails', () => (mailbox.mails.length === 2 ? true : undefined));
    expect(good.received[0]!.body).toMatchObject({ runId, status: 'failed', message: 'ALARM:1 hard limit', seq: 4 });
    expect(mailbox.mails.map((m) => (m.parsed.to as { text: string }).text).sort()).toEqual(['ana@example.org', 'ben@example.org']);
    expect(mailbox.mails[0]!.parsed.subject).toBe(`labrun: Plate wash (${runId}) failed — ALARM:1 hard limit`);

    await notify.waitFor(new RegExp(`notified key=${runId}:4 .*target="webhook 2 .*attempts=3`));
    await notify.waitFor(new RegExp(`gave up notifying key=${runId}:4 .*target="webhook 1 \\(http://127\\.0\\.0\\.1:${dead}\\)" attempts=3 error="ECONNREFUSED`));
    await sleep(600); // longer than any backoff left: nothing more arrives
    expect(flaky.received.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(good.received).toHaveLength(1);
    expect(notify.output()).toMatch(/could not notify, trying again .*target="webhook 2 .*attempt=1 of=3 retryInMs=100 error="HTTP 500 Internal Server Error"/);
    expectNoSecrets(notify.output());
  });

  it('ignores unreadable statuses, and at start-up notifies a recent retained change but not a stale one', async () => {
    const hook = await startHook();
    hooks.push(hook);
    const stale = `notify-stale-${randomUUID().slice(0, 8)}`;
    const recent = `notify-recent-${randomUUID().slice(0, 8)}`;
    await publishStatus(statusDoc(stale, 'paused', 9, 'left over', 2 * 3600_000));
    await publishStatus(statusDoc(recent, 'paused', 9, 'Check the samples', 60_000));
    const notify = await startNotify({ on: ['paused'], webhooks: [{ url: hook.url }], retry: FAST_RETRY });
    await lab.client.publish(`run/${stale}/status`, '{"runId":', { retain: false });
    await notify.waitFor(new RegExp(`ignored an unreadable status topic=run/${stale}/status error="payload is not valid JSON`));
    await notify.waitFor(new RegExp(`not notifying runId=${stale} seq=9 status=paused why="the change is 72\\d\\d s old \\(recentSeconds\\)"`));
    await until('the recent one', () => hook.received.find((r) => r.body.runId === recent));
    await sleep(300);
    expect(hook.received.filter((r) => r.body.runId === stale || r.body.runId === recent).map((r) => r.body.runId)).toEqual([recent]);
    // Still serving: a new change is notified.
    await publishStatus(statusDoc(stale, 'running', 10, ''));
    await publishStatus(statusDoc(stale, 'paused', 11, 'now it matters'));
    await until('the new pause', () => hook.received.find((r) => r.body.runId === stale && r.body.seq === 11));
    // Clean up the retained statuses for the other tests' subscribers.
    await lab.client.publish(`run/${stale}/status`, '', { retain: true });
    await lab.client.publish(`run/${recent}/status`, '', { retain: true });
  });

  it('refuses an invalid notify file with the file and the field named, exit code 2', async () => {
    const notify = await startNotify({ on: ['paused', 'finished'], webhooks: [{ url: `https://hooks.example.org/services/${WEBHOOK_SECRET}` }] }, undefined, false);
    expect(await notify.exited()).toBe(2);
    expect(notify.output()).toMatch(/invalid notify file \S+notify-[\w-]+\.json \(LABRUN_NOTIFY_FILE\):\n\s+on\[1\]: "finished" is not a run status/);
    expectNoSecrets(notify.output());
  });
});
