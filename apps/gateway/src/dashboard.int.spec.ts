// The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core, against the real
// broker, engine, hardware simulator and gateway. It starts the example run from the page, sees the protocol's
// pause in the banner, resumes from the page and sees the run succeed. At 800 px and 1400 px wide it checks what a
// new user sees: headings on their panels, icons that are drawn, a disabled Resume that looks disabled, feedback
// that goes once the run has ended, and the history of a run that ended before the page opened. Screenshots go to
// DASHBOARD_SCREENSHOTS (default: a labrun-dashboard-screenshots folder in the temp dir) to be looked at; the one the
// README shows (docs/dashboard-paused.png) is rewritten only with UPDATE_SCREENSHOTS=1. Then, against a gateway
// with tokens: the page asks for one and acts with it.
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { addToken } from '@labrun/auth';
import type { RunCommand, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, repoRoot, requirement, startBroker, startService, statusDocument, stopAll, type TestClient } from '@labrun/testkit';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = requirement(fs.existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`, 'install it with `apt-get install -y chromium` (Debian’s package; no browser is ever downloaded)');
const deviceId = 'dash-sim-1';
const screenshotDir = process.env.DASHBOARD_SCREENSHOTS ?? path.join(os.tmpdir(), 'labrun-dashboard-screenshots');
const readmeScreenshot = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs', 'dashboard-paused.png') : path.join(screenshotDir, 'dashboard-paused.png');
const WIDTHS = [800, 1400] as const;

/** How far a section heading is from its panel's content: the gap below it and how far their left edges differ. */
async function headingToPanel(page: Page, headingName: string, contentId: string): Promise<{ gap: number; leftOffset: number }> {
  const heading = await page.getByRole('heading', { name: headingName, exact: true }).boundingBox();
  const content = await page.locator(`#${contentId}`).boundingBox();
  if (!heading || !content) throw new Error(`the ${headingName} heading or #${contentId} is not rendered`);
  return { gap: content.y - (heading.y + heading.height), leftOffset: Math.abs(content.x - heading.x) };
}

/** The computed look of a run-action button. */
function buttonLook(page: Page, action: string): Promise<{ background: string; color: string; cursor: string; ariaDisabled: string | null }> {
  return page.locator(`[data-action="${action}"]`).evaluate((button) => {
    const style = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string; color: string; cursor: string } }).getComputedStyle(button);
    const ariaDisabled = (button as { getAttribute(name: string): string | null }).getAttribute('aria-disabled');
    return { background: style.backgroundColor, color: style.color, cursor: style.cursor, ariaDisabled };
  });
}

/** Headless Debian Chromium on a fresh profile, one page, and every console error and page error it reports. */
async function openChromium(profileDir: string): Promise<{ browser: BrowserContext; page: Page; consoleErrors: string[] }> {
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    viewport: { width: 1360, height: 700 },
    deviceScaleFactor: 1,
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  page.setDefaultTimeout(20_000);
  return { browser, page, consoleErrors: errors };
}

describe.skipIf(!hasChromium)('the dashboard, in headless Chromium', () => {
  let http: string;
  let dataDir: string;
  let profileDir: string;
  let browser: BrowserContext;
  let page: Page;
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(screenshotDir, { recursive: true });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'labrun-dashboard-it-'));
    profileDir = await mkdtemp(path.join(os.tmpdir(), 'labrun-chromium-'));
    const broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: deviceId });
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'dash-engine-1', DEVICE_ID: deviceId, LABRUN_DATA_DIR: dataDir });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;

    // A finished run first, so the runs list shows more than one run.
    const protocol = { schemaVersion: 1, metadata: { name: 'Plate check' }, commands: [{ type: 'comment', params: { message: 'ok' } }] };
    const created = await fetch(`${http}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol, runId: 'plate-check-1' }) });
    expect(created.status).toBe(201);
    await fetch(`${http}/runs/plate-check-1/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"play"}' });

    ({ browser, page, consoleErrors } = await openChromium(profileDir));
  });

  afterAll(async () => {
    await browser?.close();
    await stopAll();
    await rm(dataDir, { recursive: true, force: true });
    await rm(profileDir, { recursive: true, force: true });
  });

  it('starts the example, shows the protocol’s pause, resumes from the page and sees the run succeed', { timeout: 90_000 }, async () => {
    await page.goto(`${http}/`);
    await expect.poll(() => page.locator('#live-chip').textContent()).toBe('Live');
    await page.locator('.run-item', { hasText: 'Plate check' }).waitFor();

    await page.fill('#operator', 'ana');
    await page.click('#new-run');
    await expect.poll(() => page.locator('#example').inputValue()).toBe('serial-dilution');
    await page.click('#create-start');

    // The pause banner: the protocol's message, who paused it, and a timer that runs.
    const banner = page.locator('#banner');
    await banner.locator('#banner-message', { hasText: 'Check the samples' }).waitFor();
    expect(await page.locator('#run-name').textContent()).toBe('Serial dilution');
    expect(await page.locator('#run-status').textContent()).toBe('paused');
    expect(await page.locator('#banner-title').textContent()).toBe('Paused by the protocol');
    expect(await banner.locator('dl').innerText()).toMatch(/Source\s+protocol/);
    const firstTimer = await page.locator('#pause-timer').textContent();
    expect(firstTimer).toMatch(/^00:0\d$/);
    await expect.poll(() => page.locator('#pause-timer').textContent(), { timeout: 5000 }).not.toBe(firstTimer);

    // Buttons exactly as allowedActions (play, resume, stop) say; Start only for an idle run.
    const enabled = async (action: string) => page.locator(`[data-action="${action}"]`).isEnabled();
    expect(await enabled('resume')).toBe(true);
    expect(await enabled('stop')).toBe(true);
    expect(await enabled('pause')).toBe(false);
    expect(await page.locator('[data-action="play"]').isHidden()).toBe(true);

    // The current command is marked in the list; progress and hardware show.
    expect(await page.locator('.command.current').innerText()).toContain('Check the samples');
    expect(await page.locator('#progress-text').textContent()).toMatch(/^2 of 6 commands/);
    const device = page.locator(`.device[data-device-id="${deviceId}"]`);
    expect(await device.locator('.online').textContent()).toBe('online');
    expect(await device.innerText()).toMatch(/X 10\.00\s+Y 20\.00\s+Z 5\.00/);

    await expect.poll(() => page.locator('#action-feedback').isHidden()).toBe(true); // "Start accepted." fades
    await expect.poll(() => page.locator('#pause-timer').textContent(), { timeout: 10_000 }).toMatch(/^00:0[3-9]$/);
    await page.screenshot({ path: readmeScreenshot });

    // A page that is behind the engine (its button still enabled) is told why the engine refused.
    await page.locator('[data-action="pause"]').evaluate((button) => {
      const stale = button as { removeAttribute(name: string): void };
      stale.removeAttribute('disabled');
      stale.removeAttribute('aria-disabled');
    });
    await page.click('[data-action="pause"]');
    await expect.poll(() => page.locator('#action-feedback').textContent()).toMatch(/^Pause refused: cannot pause run r-[0-9a-f]{8}: it is already paused$/);
    expect(await page.locator('#action-feedback').getAttribute('class')).toContain('error');

    await page.click('[data-action="resume"]');
    await expect.poll(() => page.locator('#run-status').textContent()).not.toBe('paused');
    expect(await page.locator('#banner').isHidden()).toBe(true);
    // The 10 s incubation counts down; skip it rather than wait.
    await page.locator('#delay-card').waitFor();
    expect(await page.locator('#delay-message').textContent()).toBe('Incubate');
    expect(await page.locator('#delay-remaining').textContent()).toMatch(/^00:(10|0\d)$/);
    await page.click('[data-action="skip-delay"]');

    await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 30_000 }).toBe('succeeded');
    expect(await page.locator('#banner-title').textContent()).toBe('Run succeeded');
    expect(await page.locator('#progress-text').textContent()).toMatch(/^6 of 6 commands · 100%/);
    expect(await page.locator('[data-action="stop"]').isDisabled()).toBe(true);
    expect(await page.locator('#activity').innerText()).toMatch(/resume accepted from ana/);
    // The browser logs the 409 of the refused pause as a failed resource; anything else is a fault of the page.
    expect(consoleErrors.filter((e) => !/^Failed to load resource: .* 409 \(Conflict\)$/.test(e))).toEqual([]);
  });

  it('creates a run from a pasted protocol without starting it, then starts it with Start', { timeout: 60_000 }, async () => {
    await page.goto(`${http}/`);
    await page.click('#new-run');
    await page.selectOption('#example', '');
    const protocol = { schemaVersion: 1, metadata: { name: 'Pasted protocol' }, commands: [{ type: 'comment', params: { message: 'from the page' } }] };
    await page.fill('#protocol-text', JSON.stringify(protocol));
    await page.fill('#new-run-id', 'pasted-1');
    await page.click('#create-only');

    await expect.poll(() => page.locator('#run-id').textContent()).toBe('pasted-1');
    expect(await page.locator('#run-status').textContent()).toBe('idle');
    const start = page.locator('[data-action="play"]');
    expect(await start.isVisible()).toBe(true);
    expect(await start.isEnabled()).toBe(true);
    expect(await page.locator('[data-action="pause"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-action="resume"]').isDisabled()).toBe(true);

    await start.click();
    await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 20_000 }).toBe('succeeded');
    expect(await page.locator('.command.succeeded').innerText()).toContain('Comment: “from the page”');
  });

  it('refuses a pasted protocol that is not valid, with the reason, and creates nothing', async () => {
    await page.click('#new-run');
    await page.selectOption('#example', '');
    await page.fill('#protocol-text', JSON.stringify({ schemaVersion: 1, metadata: { name: 'bad' }, commands: [{ type: 'move', params: {} }] }));
    await page.click('#create-start');
    await expect.poll(() => page.locator('#new-run-error').textContent()).toContain('✖ move needs at least one of x, y, z');
    expect(await page.locator('#new-run-dialog').getAttribute('open')).not.toBeNull();
    await page.click('#cancel-new-run');
  });

  it('shows the history of a run that ended before the page opened in the activity panel', { timeout: 60_000 }, async () => {
    await page.goto(`${http}/#run=plate-check-1`);
    await expect.poll(() => page.locator('#run-status').textContent()).toBe('succeeded');
    const activity = page.locator('#activity');
    await expect.poll(() => activity.innerText()).toMatch(/run succeeded/);
    const text = await activity.innerText();
    // Newest first: how it ended, the one command's end and start, its creation.
    expect(text).toMatch(/run succeeded[\s\S]*#1 done[\s\S]*#1 comment started[\s\S]*created on dash-sim-1/);
    expect(text).not.toContain('Events of the selected run appear here.');
  });

  it(
    'at 800 px and 1400 px: headings sit on their panels, the skip-delay icon is drawn, a disabled Resume looks disabled, and "Skip delay accepted." goes once the run ends',
    { timeout: 120_000 },
    async () => {
      const protocol = {
        schemaVersion: 1,
        metadata: { name: 'Tube labels' },
        commands: [
          { type: 'pause', params: { message: 'Label the tubes first' } },
          { type: 'delay', params: { seconds: 600, message: 'Incubate' } },
          { type: 'comment', params: { message: 'done' } },
        ],
      };
      const created = await fetch(`${http}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol, runId: 'tube-labels-1' }) });
      expect(created.status).toBe(201);
      await fetch(`${http}/runs/tube-labels-1/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"play"}' });
      await page.goto(`${http}/#run=tube-labels-1`);
      await page.locator('#banner-message', { hasText: 'Label the tubes first' }).waitFor();
      await expect.poll(() => page.locator('#activity').innerText()).toMatch(/#1 pause started/);

      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        for (const [heading, content] of [
          ['Hardware', 'devices'],
          ['Activity', 'activity'],
        ] as const) {
          const { gap, leftOffset } = await headingToPanel(page, heading, content);
          expect(gap, `${width} px: the gap below the ${heading} heading`).toBeGreaterThanOrEqual(0);
          expect(gap, `${width} px: the gap below the ${heading} heading`).toBeLessThan(16);
          expect(leftOffset, `${width} px: the ${heading} heading is not above #${content}`).toBeLessThan(4);
        }
        await page.screenshot({ path: path.join(screenshotDir, `paused-${width}.png`), fullPage: true });
      }
      const enabledResume = await buttonLook(page, 'resume');
      expect(enabledResume.ariaDisabled).toBe('false');

      await page.click('[data-action="resume"]');
      const skip = page.locator('[data-action="skip-delay"]');
      await skip.waitFor();
      await expect.poll(() => page.locator('[data-action="resume"]').isDisabled()).toBe(true);
      // A disabled Resume looks disabled: not the blue of the one to press, a not-allowed cursor, and says so.
      const disabledResume = await buttonLook(page, 'resume');
      expect(disabledResume.ariaDisabled).toBe('true');
      expect(disabledResume.cursor).toBe('not-allowed');
      expect(enabledResume.cursor).toBe('pointer');
      expect(disabledResume.background).not.toBe(enabledResume.background);
      expect(disabledResume.color).not.toBe(enabledResume.color);

      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        // The icon is drawn (an SVG with a size), not a glyph the page's fonts may lack.
        expect(await skip.locator('svg').count(), 'the skip-delay button has an SVG icon').toBe(1);
        const icon = await skip.locator('svg').boundingBox();
        expect(icon?.width, `${width} px: the skip-delay icon's width`).toBeGreaterThanOrEqual(10);
        expect(icon?.height, `${width} px: the skip-delay icon's height`).toBeGreaterThanOrEqual(10);
        expect((await skip.innerText()).trim()).toBe('Skip delay');
        await page.screenshot({ path: path.join(screenshotDir, `delay-${width}.png`), fullPage: true });
      }

      const answered = page.waitForResponse((response) => response.url().endsWith('/runs/tube-labels-1/actions'));
      await skip.click();
      expect((await answered).status()).toBe(201);
      await expect.poll(() => page.locator('#action-feedback').textContent()).toBe('Skip delay accepted.');
      await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 30_000 }).toBe('succeeded');
      // The engine has answered and the run has ended (a moment after the skip, well within what a timer alone
      // would leave the feedback up for): the feedback is gone.
      expect(await page.locator('#action-feedback').isHidden()).toBe(true);
      await page.screenshot({ path: path.join(screenshotDir, 'succeeded-1400.png'), fullPage: true });
      await page.setViewportSize({ width: 1360, height: 700 });
    },
  );
});

describe.skipIf(!hasChromium)('the dashboard with tokens, in headless Chromium', () => {
  let http: string;
  let dir: string;
  let browser: BrowserContext;
  let page: Page;
  let operatorToken: string;
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-dashboard-auth-it-'));
    const file = path.join(dir, 'auth.json');
    operatorToken = (await addToken(file, 'bench-laptop', 'operator', { user: 'ana' })).token;
    // The broker stays anonymous on loopback: the gateway's tokens do not depend on the broker's users.
    const broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: 'dash-auth-sim' });
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'dash-auth-engine', DEVICE_ID: 'dash-auth-sim' });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0', LABRUN_AUTH_FILE: file });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    ({ browser, page, consoleErrors } = await openChromium(path.join(dir, 'profile')));
  });

  afterAll(async () => {
    await browser?.close();
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks for a token, refuses a wrong one, then runs the example acting as the token’s user', { timeout: 90_000 }, async () => {
    await page.goto(`${http}/`);
    const dialog = page.locator('#token-dialog');
    await dialog.waitFor();
    expect(await page.locator('#token-reason').textContent()).toContain('this gateway needs a bearer token');

    await page.fill('#token-input', 'lrt_made-up');
    await page.click('#token-save');
    await expect.poll(() => page.locator('#token-error').textContent()).toContain('the bearer token is not one this gateway knows');

    await page.fill('#token-input', operatorToken);
    await page.click('#token-save');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.locator('#identity').textContent()).toBe('ana · operator');
    await expect.poll(() => page.locator('#live-chip').textContent()).toBe('Live');

    // No name typed in: the gateway gives the actions the token's user.
    await page.click('#empty-state [data-start-example]');
    await page.locator('#banner-message', { hasText: 'Check the samples' }).waitFor();
    await page.click('[data-action="resume"]');
    await expect.poll(() => page.locator('#activity').innerText()).toMatch(/resume accepted from ana/);

    // The token is remembered: a reload goes straight to the runs.
    await page.reload();
    await expect.poll(() => page.locator('#live-chip').textContent()).toBe('Live');
    expect(await dialog.isHidden()).toBe(true);
    await page.locator('.run-item', { hasText: 'Serial dilution' }).waitFor();
    // The browser logs the refused requests (401) as failed resources; anything else is a fault of the page.
    expect(consoleErrors.filter((e) => !/^Failed to load resource: .* 401 \(Unauthorized\)$/.test(e))).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('the recovery panel, with a scripted engine, in headless Chromium', () => {
  // No engine: this test publishes the documents an engine would (retained statuses and commands) and answers the
  // page's actions itself, so it pins what the page shows for each state of a recovery and what it sends.
  const runId = 'recovery-1';
  const at = new Date().toISOString();
  const alarm = 'ALARM:9 Homing required: the controller is locked until it is homed. Home the machine, then retry.';
  let dir: string;
  let http: string;
  let engine: TestClient;
  let browser: BrowserContext;
  let page: Page;
  let consoleErrors: string[] = [];
  let seq = 10;

  const attempt = (n: number, status: 'running' | 'succeeded' | 'failed', error: string | null = null) => ({
    attempt: n,
    status,
    startedAt: at,
    completedAt: status === 'running' ? null : at,
    error: error === null ? null : { code: 'alarm', message: error },
    result: null,
  });
  const commandsDocument = (third: Pick<RunCommand, 'status' | 'attempts' | 'error'>) => ({
    runId,
    seq: ++seq,
    commands: [
      {
        index: 0,
        command: { type: 'move', params: { x: 1 } },
        status: 'skipped',
        startedAt: at,
        completedAt: at,
        error: { code: 'alarm', message: 'ALARM:1 Hard limit' },
        result: null,
        attempts: [attempt(1, 'failed', 'ALARM:1 Hard limit')],
        skippedBy: 'ana',
      },
      {
        index: 1,
        command: { type: 'home' },
        status: 'succeeded',
        startedAt: at,
        completedAt: at,
        error: null,
        result: null,
        attempts: [attempt(1, 'failed', 'ALARM:6 Homing fail'), attempt(2, 'succeeded')],
      },
      { index: 2, command: { type: 'move', params: { x: 10, y: 20, feed: 600 } }, startedAt: at, completedAt: null, result: null, ...third },
      { index: 3, command: { type: 'comment', params: { message: 'Done' } }, status: 'queued', startedAt: null, completedAt: null, error: null, result: null, attempts: [] },
    ],
  });
  const errorReason = { source: 'error' as const, message: alarm, since: at, by: null };
  const userReason = { source: 'user' as const, message: 'checking the deck', since: at, by: 'ben' };
  const awaiting = (recovery: RunStatusDocument['recovery'], allowedActions: RunStatusDocument['allowedActions']): RunStatusDocument =>
    statusDocument(runId, {
      name: 'Recovery check',
      deviceId: 'rec-sim',
      status: 'awaiting-recovery',
      seq: ++seq,
      startedAt: at,
      current: { index: 2, type: 'move', startedAt: at },
      progress: { completed: 2, total: 4 },
      error: { code: 'alarm', message: alarm, commandIndex: 2, attempt: 1, positionLost: true },
      pause: { ...errorReason, reasons: [userReason, errorReason] },
      recovery,
      allowedActions,
      updatedAt: new Date().toISOString(),
    });
  const publishStatus = (status: RunStatusDocument) => engine.publish(`run/${runId}/status`, status, { retain: true });

  /** The engine's answer to each action the page sends: `refuse` it with a code, or accept it and publish `then`. */
  let script: (action: { type: string; id: string; by?: string }) => { refuse: { code: string; message: string } } | { then: () => Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-dashboard-recovery-'));
    const broker = await startBroker();
    engine = await connectTestClient(broker.url);
    await engine.publish(`run/${runId}/status`, awaiting({ attempt: 1, needsHome: true, fixit: null }, ['skip', 'home', 'unlock', 'stop']), { retain: true });
    await engine.publish(`run/${runId}/commands`, commandsDocument({ status: 'failed', attempts: [attempt(1, 'failed', alarm)], error: { code: 'alarm', message: alarm } }), { retain: true });
    await engine.subscribe(`run/${runId}/actions`);
    engine.client.on('message', (topic, payload) => {
      if (topic !== `run/${runId}/actions`) return;
      const action = JSON.parse(payload.toString());
      const answer = script(action);
      const base = { runId, at: new Date().toISOString(), actionId: action.id, action: action.type };
      if ('refuse' in answer) void engine.publish(`run/${runId}/events`, { ...base, seq: 0, type: 'action.rejected', ...answer.refuse });
      else void engine.publish(`run/${runId}/events`, { ...base, seq: ++seq, type: 'action.accepted', by: action.by ?? null, message: null, mode: null }).then(answer.then);
    });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    ({ browser, page, consoleErrors } = await openChromium(path.join(dir, 'profile')));
  });

  afterAll(async () => {
    await browser?.close();
    await engine?.close();
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows what failed in the controller’s words, home first, every pause reason, and sends Home then Retry as allowedActions permit', { timeout: 90_000 }, async () => {
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`${http}/#run=${runId}`);
    await page.fill('#operator', 'ana');
    const panel = page.locator('#recovery');
    await panel.waitFor();
    expect(await page.locator('#run-status').textContent()).toBe('awaiting-recovery');
    await expect.poll(() => page.locator('#recovery-command').textContent()).toBe('Move to X 10, Y 20 at 600 mm/min');
    expect(await page.locator('#recovery-title').textContent()).toBe('Command #3 failed');
    expect(await page.locator('#recovery-message').textContent()).toBe(alarm);
    expect(await page.locator('#recovery-facts').innerText()).toMatch(/Code\s+alarm[\s\S]*Attempt\s+1/);
    expect(await page.locator('#recovery-needs-home').innerText()).toContain('Position lost: home first.');
    expect(await page.locator('#recovery-reasons').innerText()).toBe('Also held by ben: checking the deck');
    // The panel has every way out; the pause banner and the usual buttons are not there to confuse.
    expect(await page.locator('#banner').isHidden()).toBe(true);
    expect(await page.locator('#controls').isHidden()).toBe(true);
    const button = (action: string) => page.locator(`[data-recovery-action="${action}"]`);
    const enabled = async () => Object.fromEntries(await Promise.all(['retry', 'skip', 'home', 'unlock', 'stop'].map(async (a) => [a, await button(a).isEnabled()] as const)));
    expect(await enabled()).toEqual({ retry: false, skip: true, home: true, unlock: true, stop: true });
    // The command list: the failed command current, a skip and a success on a retry.
    expect(await page.locator('.command.current .what').textContent()).toBe('Move to X 10, Y 20 at 600 mm/minawaiting recovery');
    expect(await page.locator('.command.current').getAttribute('class')).toContain('failed');
    expect(await page.locator('.command[data-index="0"]').innerText()).toContain('skipped by ana after failing once');
    expect(await page.locator('.command[data-index="0"]').getAttribute('class')).toContain('skipped');
    expect(await page.locator('.command[data-index="1"]').innerText()).toContain('failed once, succeeded on attempt 2');
    await page.screenshot({ path: path.join(screenshotDir, 'recovery-needs-home-1400.png'), fullPage: true });
    await page.setViewportSize({ width: 800, height: 1000 });
    // At 800 px every recovery button is still on screen, next to the panel's text, not pushed out of it.
    for (const action of ['retry', 'stop']) {
      const box = await button(action).boundingBox();
      expect(box && box.x + box.width, `${action} at 800 px`).toBeLessThanOrEqual(800);
    }
    await page.screenshot({ path: path.join(screenshotDir, 'recovery-needs-home-800.png'), fullPage: true });
    await page.setViewportSize({ width: 1400, height: 1000 });

    // Home: the engine takes it, homes (in progress: only Stop), and is done: Retry opens up.
    const sent: { type: string; by?: string }[] = [];
    script = (action) => {
      sent.push(action);
      return {
        then: async () => {
          await publishStatus(awaiting({ attempt: 1, needsHome: true, fixit: { action: 'home', ok: null, message: null, at } }, ['stop']));
          await new Promise((r) => setTimeout(r, 1500));
          await publishStatus(
            awaiting({ attempt: 1, needsHome: false, fixit: { action: 'home', ok: true, message: 'homed: the machine is at its origin', at } }, ['retry', 'skip', 'home', 'unlock', 'stop']),
          );
        },
      };
    };
    await button('home').click();
    await expect.poll(() => page.locator('#recovery-fixit').textContent()).toBe('Homing…');
    expect(await enabled()).toEqual({ retry: false, skip: false, home: false, unlock: false, stop: true });
    expect(await page.locator('#action-feedback').textContent()).toBe('Home accepted.');
    await expect.poll(() => page.locator('#recovery-fixit').textContent(), { timeout: 10_000 }).toBe('Home done: homed: the machine is at its origin');
    expect(await page.locator('#recovery-needs-home').isHidden()).toBe(true);
    expect(await enabled()).toEqual({ retry: true, skip: true, home: true, unlock: true, stop: true });
    expect(sent).toEqual([expect.objectContaining({ type: 'home', by: 'ana' })]);
    await page.screenshot({ path: path.join(screenshotDir, 'recovery-homed-1400.png'), fullPage: true });

    // A page that is behind the engine is told why it refused, in its words (the gateway answers 409 with the code).
    script = () => ({ refuse: { code: 'fixit-in-progress', message: `cannot unlock run ${runId}: a home is in progress` } });
    await button('unlock').click();
    await expect.poll(() => page.locator('#action-feedback').textContent()).toBe(`Unlock refused: cannot unlock run ${runId}: a home is in progress`);

    // Retry: the run goes on, the panel goes, and the command list says this is the second attempt.
    script = (action) => {
      sent.push(action);
      return {
        then: async () => {
          await publishStatus(
            statusDocument(runId, {
              name: 'Recovery check',
              deviceId: 'rec-sim',
              status: 'running',
              seq: ++seq,
              startedAt: at,
              current: { index: 2, type: 'move', startedAt: at },
              progress: { completed: 2, total: 4 },
              allowedActions: ['pause', 'stop'],
            }),
          );
          await engine.publish(`run/${runId}/commands`, commandsDocument({ status: 'running', attempts: [attempt(1, 'failed', alarm), attempt(2, 'running')], error: null }), { retain: true });
        },
      };
    };
    await button('retry').click();
    await expect.poll(() => page.locator('#run-status').textContent()).toBe('running');
    expect(await panel.isHidden()).toBe(true);
    expect(await page.locator('#controls').isVisible()).toBe(true);
    expect(sent.at(-1)).toMatchObject({ type: 'retry', by: 'ana' });
    await expect.poll(() => page.locator('.command.current').innerText()).toContain('failed once, now attempt 2');
    expect(consoleErrors.filter((e) => !/^Failed to load resource: .* 409 \(Conflict\)$/.test(e))).toEqual([]);
  });

  it('lists every reason a paused run waits for under the banner’s headline: the protocol’s message stays with the interlock and a user', async () => {
    const protocolReason = { source: 'protocol' as const, message: 'Check the samples', since: at, by: null };
    const interlockReason = { source: 'interlock' as const, message: 'door open', since: at, by: null };
    // A link to a run the gateway has not heard of yet (created a moment ago): the page shows it once it is there.
    await page.goto(`${http}/#run=stacked-1`);
    await engine.publish(
      'run/stacked-1/status',
      statusDocument('stacked-1', {
        name: 'Stacked reasons',
        status: 'blocked',
        seq: 3,
        startedAt: at,
        current: { index: 1, type: 'pause', startedAt: at },
        pause: { ...protocolReason, reasons: [protocolReason, interlockReason, userReason] },
        interlock: { message: 'door open', since: at },
        allowedActions: ['stop'],
      }),
      { retain: true },
    );
    await page.locator('#banner-message', { hasText: 'Check the samples' }).waitFor();
    expect(await page.locator('#banner-title').textContent()).toBe('Paused by the protocol, and blocked: door open');
    // The interlock is in the title; the user's pause would be lost without the list.
    expect(await page.locator('#banner-reasons').innerText()).toBe('Also held by ben: checking the deck');
    expect(await page.locator('#recovery').isHidden()).toBe(true);
  });

  it('shows a wait for another instrument: what it waits for, since when, and until when before it gives up', async () => {
    const until = new Date(Date.parse(at) + 60_000).toISOString();
    const waiting = { source: 'external' as const, message: 'waiting for the plate reader', since: at, by: null, resumesAt: until };
    await engine.publish(
      'run/external-1/status',
      statusDocument('external-1', {
        name: 'Plate reader handshake',
        status: 'paused',
        seq: 4,
        startedAt: at,
        current: { index: 1, type: 'wait-for', startedAt: at },
        pause: { ...waiting, reasons: [waiting] },
        allowedActions: ['play', 'pause', 'resume', 'stop'],
      }),
      { retain: true },
    );
    await page.goto(`${http}/#run=external-1`);
    await page.locator('#banner-message', { hasText: 'waiting for the plate reader' }).waitFor();
    expect(await page.locator('#banner-title').textContent()).toBe('Waiting for another instrument');
    const facts = await page.locator('#banner-facts').innerText();
    expect(facts).toContain('external');
    expect(facts).toMatch(/Until\s+\S+ \(then it gives up\)/);
  });
});

describe.skipIf(!hasChromium)('the recovery panel, with the real engine and a simulator that starts in Alarm, in headless Chromium', () => {
  const device = 'dash-rec-sim';
  let dir: string;
  let http: string;
  let browser: BrowserContext;
  let page: Page;
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-dashboard-e2e-recovery-'));
    const broker = await startBroker();
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: device });
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'dash-rec-engine', DEVICE_ID: device, LABRUN_DATA_DIR: path.join(dir, 'engine') });
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    // The simulator's controller is connected (still in Alarm) before the run asks it to move.
    await vi.waitFor(
      async () => {
        const health = (await (await fetch(`${http}/healthz`)).json()) as { devices: Record<string, { state: { connected: boolean } | null }> };
        expect(health.devices[device]?.state?.connected).toBe(true);
      },
      { timeout: 20_000, interval: 100 },
    );
    ({ browser, page, consoleErrors } = await openChromium(path.join(dir, 'profile')));
  });

  afterAll(async () => {
    await browser?.close();
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('a first move on the unhomed machine fails into the panel with the controller’s words; Home then Retry finish the run', { timeout: 90_000 }, async () => {
    const protocol = {
      schemaVersion: 1,
      metadata: { name: 'Unhomed move' },
      commands: [
        { type: 'move', params: { x: 10, y: 10, feed: 6000 } },
        { type: 'comment', params: { message: 'done' } },
      ],
    };
    const post = (url: string, body: unknown) => fetch(`${http}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/runs', { protocol, runId: 'unhomed-1' })).status).toBe(201);
    await page.goto(`${http}/#run=unhomed-1`);
    await page.fill('#operator', 'ana');
    await page.click('[data-action="play"]');

    const panel = page.locator('#recovery');
    await panel.waitFor({ timeout: 20_000 });
    expect(await page.locator('#recovery-title').textContent()).toBe('Command #1 failed');
    await expect.poll(() => page.locator('#recovery-command').textContent()).toBe('Move to X 10, Y 10 at 6000 mm/min');
    // GRBL's state in the hardware service's words, and what to do.
    expect(await page.locator('#recovery-message').textContent()).toMatch(/Alarm.*home the machine, then retry/);
    expect(await page.locator('#recovery-facts').innerText()).toMatch(/Code\s+not-homed[\s\S]*Attempt\s+1/);
    const button = (action: string) => page.locator(`[data-recovery-action="${action}"]`);
    for (const action of ['retry', 'skip', 'home', 'unlock', 'stop']) expect(await button(action).isEnabled(), action).toBe(true);

    await button('home').click();
    await expect.poll(() => page.locator('#recovery-fixit').textContent(), { timeout: 30_000 }).toMatch(/^Home done/);
    expect(await page.locator('#run-status').textContent()).toBe('awaiting-recovery');
    await button('retry').click();
    await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 30_000 }).toBe('succeeded');
    expect(await panel.isHidden()).toBe(true);
    expect(await page.locator('.command[data-index="0"]').innerText()).toContain('failed once, succeeded on attempt 2');
    await expect.poll(() => page.locator('#activity').innerText()).toMatch(/retry accepted from ana[\s\S]*home accepted from ana/);
    expect(await page.locator('#activity').innerText()).toMatch(/#1 done \(attempt 2\)[\s\S]*#1 move started \(attempt 2\)[\s\S]*#1 failed: /);
    await page.screenshot({ path: path.join(screenshotDir, 'recovery-retried-1400.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('the devices panel and run filters, over two engines and two devices, in headless Chromium', () => {
  const [d1, d2] = ['dash-fleet-1', 'dash-fleet-2'];
  let dir: string;
  let http: string;
  let browser: BrowserContext;
  let page: Page;
  let consoleErrors: string[] = [];
  const post = (url: string, body: unknown) => fetch(`${http}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-dashboard-fleet-'));
    const broker = await startBroker();
    await Promise.all([
      startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: d1 }),
      startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: d2 }),
      startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'dash-fleet-e1', ENGINE_DEVICES: d1, LABRUN_DATA_DIR: path.join(dir, 'e1') }),
      startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'dash-fleet-e2', ENGINE_DEVICES: d2, LABRUN_DATA_DIR: path.join(dir, 'e2') }),
    ]);
    const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0' });
    http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
    // Both engines have said which device each serves.
    await vi.waitFor(
      async () => {
        const devices = (await (await fetch(`${http}/devices`)).json()) as { data: { deviceId: string; engineId: string | null }[] };
        expect(devices.data.map((d) => [d.deviceId, d.engineId])).toEqual([
          [d1, 'dash-fleet-e1'],
          [d2, 'dash-fleet-e2'],
        ]);
      },
      { timeout: 20_000, interval: 100 },
    );
    const comment = { schemaVersion: 1, metadata: { name: 'Quick check' }, commands: [{ type: 'comment', params: { message: 'ok' } }] };
    const pausing = { schemaVersion: 1, metadata: { name: 'Plate two' }, commands: [{ type: 'pause', params: { message: 'Check plate 2' } }] };
    expect((await post('/runs', { protocol: comment, deviceId: d1, runId: 'fleet-done-1' })).status).toBe(201);
    expect((await post('/runs', { protocol: pausing, deviceId: d2, runId: 'fleet-paused-2' })).status).toBe(201);
    expect((await post('/runs/fleet-done-1/actions', { type: 'play' })).status).toBe(201);
    expect((await post('/runs/fleet-paused-2/actions', { type: 'play' })).status).toBe(201);
    ({ browser, page, consoleErrors } = await openChromium(path.join(dir, 'profile')));
  });

  afterAll(async () => {
    await browser?.close();
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists both devices with their engine, machine state and current run; a click selects the run; the filters narrow the list', { timeout: 90_000 }, async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${http}/`);
    const device = (id: string) => page.locator(`.fleet-device[data-device-id="${id}"]`);
    await expect
      .poll(
        () =>
          device(d2)
            .locator('.note')
            .textContent()
            .catch(() => null),
        { timeout: 20_000 },
      )
      .toBe('Check plate 2');
    await expect.poll(() => device(d1).locator('.current-run').innerText(), { timeout: 20_000 }).toMatch(/succeeded\s+Quick check/i);
    expect(await page.locator('.fleet-device').count()).toBe(2);
    expect(await page.locator('#device-count').textContent()).toBe('2');
    for (const [id, engine] of [
      [d1, 'engine dash-fleet-e1'],
      [d2, 'engine dash-fleet-e2'],
    ] as const) {
      expect(await device(id).locator('.online').textContent()).toBe('online');
      expect(await device(id).locator('.engine').textContent()).toBe(engine);
      expect(await device(id).locator('.machine').textContent()).toMatch(/^(Idle|Alarm|Hold|Run|Home|Jog|Door|Check|Sleep)$/);
    }
    expect(await device(d2).locator('.status-pill').textContent()).toBe('paused');

    await device(d1).click();
    await expect.poll(() => page.locator('#run-id').textContent()).toBe('fleet-done-1');
    await device(d2).click();
    await expect.poll(() => page.locator('#run-id').textContent()).toBe('fleet-paused-2');
    expect(await page.locator('#banner-message').textContent()).toBe('Check plate 2');
    expect(await device(d2).getAttribute('aria-current')).toBe('true');

    const listed = async () => Promise.all((await page.locator('.run-item').all()).map((item) => item.getAttribute('data-run-id')));
    expect((await listed()).sort()).toEqual(['fleet-done-1', 'fleet-paused-2']);
    await page.selectOption('#filter-device', d1);
    await expect.poll(listed).toEqual(['fleet-done-1']);
    expect(await page.locator('#run-count').textContent()).toBe('1 of 2');
    await page.selectOption('#filter-status', 'paused');
    await expect.poll(listed).toEqual([]);
    expect(await page.locator('#no-matching-runs').isVisible()).toBe(true);
    await page.selectOption('#filter-device', '');
    await expect.poll(listed).toEqual(['fleet-paused-2']);
    await page.selectOption('#filter-status', 'waiting');
    await expect.poll(listed).toEqual(['fleet-paused-2']);
    await page.screenshot({ path: path.join(screenshotDir, 'fleet-filtered-1400.png'), fullPage: true });
    await page.selectOption('#filter-device', d1);
    await page.locator('#clear-filters').click(); // shown when nothing matches
    expect([await page.locator('#filter-device').inputValue(), await page.locator('#filter-status').inputValue()]).toEqual(['', '']);
    await expect.poll(async () => (await listed()).sort()).toEqual(['fleet-done-1', 'fleet-paused-2']);

    // Resumed from the page, the device's line follows its run to the end.
    await page.click('[data-action="resume"]');
    await expect.poll(() => device(d2).locator('.status-pill').textContent(), { timeout: 20_000 }).toBe('succeeded');
    expect(await device(d2).locator('.note').count()).toBe(0);
    await page.setViewportSize({ width: 800, height: 900 });
    await page.screenshot({ path: path.join(screenshotDir, 'fleet-800.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
