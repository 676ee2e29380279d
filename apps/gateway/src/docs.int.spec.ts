// The API documents and their docs pages, from a running gateway (the built service, on its own broker): the
// served OpenAPI document is valid to a real validator, the AsyncAPI document is the committed one, the docs'
// files come from the gateway's packages with their content types and nothing else is reachable through them,
// and with an auth file the documents stay public while the API does not. Then, in Debian's Chromium: both pages
// render the API (the `/runs` path, the `run/{runId}/status` channel) and no request leaves the gateway.
import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { addToken, addUser } from '@labrun/auth';
import { repoRoot, requirement, startBroker, startService, stopAll } from '@labrun/testkit';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = requirement(fs.existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`, 'install it with `apt-get install -y chromium` (Debian’s package; no browser is ever downloaded)');

let http: string;
let dir: string;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-docs-it-'));
  const authFile = path.join(dir, 'auth.json');
  await addUser(authFile, 'wall', 'viewer', 'wall-password');
  token = (await addToken(authFile, 'wall-screen', 'viewer', { user: 'wall' })).token;
  const broker = await startBroker();
  // With an auth file: the documents and pages must be reachable without a token all the same.
  const gateway = await startService('gateway', { MQTT_URL: broker.url, HTTP_PORT: '0', LABRUN_AUTH_FILE: authFile });
  http = (await gateway.waitFor(/listening http=(\S+)/))[1]!;
});

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('the API documents, served by the gateway', () => {
  it('serves an OpenAPI 3.1 document that @readme/openapi-parser validates, describing the runs API', async () => {
    const response = await fetch(`${http}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const document = (await response.json()) as any;
    expect(await validate(structuredClone(document))).toMatchObject({ valid: true, specification: 'OpenAPI' });
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/runs', '/runs/{runId}', '/runs/{runId}/actions']));
    expect(document.components.schemas.RunAction.properties.type.enum).toEqual(['play', 'pause', 'resume', 'stop', 'skip-delay', 'retry', 'skip', 'home', 'unlock']);
    // The same document as the committed one.
    expect(document).toEqual(JSON.parse(await readFile(path.join(repoRoot, 'docs/openapi.json'), 'utf8')));
  });

  it('serves the AsyncAPI document as committed in docs/asyncapi.json', async () => {
    const response = await fetch(`${http}/asyncapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(JSON.parse(await readFile(path.join(repoRoot, 'docs/asyncapi.json'), 'utf8')));
  });

  it('keeps the documents and docs pages public with an auth file on, while the API needs a token', async () => {
    for (const url of ['/openapi.json', '/asyncapi.json', '/docs', '/docs/http', '/docs/mqtt', '/docs/assets/swagger-ui-bundle.js']) {
      expect({ url, status: (await fetch(http + url)).status }).toEqual({ url, status: 200 });
    }
    expect((await fetch(`${http}/runs`)).status).toBe(401);
    expect((await fetch(`${http}/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('serves the renderers’ files from their npm packages with their content types', async () => {
    const files: Record<string, [string, string]> = {
      '/docs/assets/swagger-ui-bundle.js': ['text/javascript; charset=utf-8', 'swagger-ui-dist/swagger-ui-bundle.js'],
      '/docs/assets/swagger-ui.css': ['text/css; charset=utf-8', 'swagger-ui-dist/swagger-ui.css'],
      '/docs/assets/asyncapi-standalone.js': ['text/javascript; charset=utf-8', '@asyncapi/react-component/browser/standalone/index.js'],
      '/docs/assets/asyncapi.min.css': ['text/css; charset=utf-8', '@asyncapi/react-component/styles/default.min.css'],
    };
    for (const [url, [type, file]] of Object.entries(files)) {
      const response = await fetch(http + url);
      expect({ url, status: response.status, type: response.headers.get('content-type') }).toEqual({ url, status: 200, type });
      expect(Buffer.from(await response.arrayBuffer()).equals(await readFile(path.join(repoRoot, 'node_modules', file)))).toBe(true);
    }
    const page = await fetch(`${http}/docs/http`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
  });

  it('serves no other file: not through .., encoded slashes, or names of other package files', async () => {
    for (const url of [
      '/docs/assets/package.json',
      '/docs/assets/..%2F..%2F..%2Fpackage.json',
      '/docs/assets/%2e%2e%2fpackage.json',
      '/docs/assets/swagger-ui-bundle.js.map',
      '/docs/assets/index.html',
      '/docs/assets/constructor',
      '/docs/assets/__proto__',
      '/docs/other',
    ]) {
      const response = await fetch(http + url);
      expect({ url, status: response.status }).toEqual({ url, status: 404 });
      expect(((await response.json()) as any).error.code).toBe('not-found');
    }
    // A path with .. is resolved before routing, as a browser would: it reaches only what it names.
    expect((await fetch(`${http}/docs/assets/../../package.json`)).status).toBe(404);
  });
});

/** Headless Debian Chromium on a fresh profile, and every request the page makes and every error it reports. */
async function openChromium(profileDir: string): Promise<{ browser: BrowserContext; page: Page; requests: string[]; errors: string[] }> {
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    viewport: { width: 1360, height: 900 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const requests: string[] = [];
  const errors: string[] = [];
  // Every request of the whole context (pages, workers), whether or not it is answered.
  browser.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  page.setDefaultTimeout(20_000);
  return { browser, page, requests, errors };
}

describe.skipIf(!hasChromium)('the docs pages, in headless Chromium', () => {
  let profileDir: string;
  let browser: BrowserContext;
  let page: Page;
  let requests: string[];
  let errors: string[];

  beforeAll(async () => {
    profileDir = await mkdtemp(path.join(os.tmpdir(), 'labrun-chromium-docs-'));
    ({ browser, page, requests, errors } = await openChromium(profileDir));
  });

  afterAll(async () => {
    await browser?.close();
    await rm(profileDir, { recursive: true, force: true });
  });

  /** The requests that went anywhere but the gateway (data: URLs load nothing). */
  const elsewhere = () => requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== new URL(http).origin);

  it('links both docs from /docs', { timeout: 30_000 }, async () => {
    await page.goto(`${http}/docs`);
    await page.getByRole('link', { name: 'HTTP API' }).click();
    await page.waitForURL(`${http}/docs/http`);
    await page.goBack();
    await page.getByRole('link', { name: 'MQTT contract' }).click();
    await page.waitForURL(`${http}/docs/mqtt`);
  });

  it('renders the HTTP API with Swagger UI: the /runs paths and the actions, with no request leaving the gateway', { timeout: 60_000 }, async () => {
    requests.length = 0;
    errors.length = 0;
    await page.goto(`${http}/docs/http`);
    await page
      .locator('.opblock-summary-path', { hasText: /^\/runs$/ })
      .first()
      .waitFor();
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    expect(paths).toEqual(expect.arrayContaining(['/runs', '/runs/{runId}', '/runs/{runId}/actions', '/devices', '/engines']));
    expect(await page.locator('.info .title').innerText()).toContain('labrun gateway');
    // Open the actions endpoint: its 409 names the recovery codes.
    await page.locator('.opblock-summary-path', { hasText: /^\/runs\/\{runId\}\/actions$/ }).click();
    await page.locator('.response', { hasText: 'awaiting-recovery' }).first().waitFor();
    await page.screenshot({ path: path.join(os.tmpdir(), 'labrun-docs-http.png') });
    expect(requests).toContain(`${http}/openapi.json`);
    expect(elsewhere()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('renders the MQTT contract with AsyncAPI’s component: the run/{runId}/status channel, with no request leaving the gateway', { timeout: 60_000 }, async () => {
    requests.length = 0;
    errors.length = 0;
    await page.goto(`${http}/docs/mqtt`);
    await page.getByText('run/{runId}/status').first().waitFor();
    const text = await page.locator('#asyncapi').innerText();
    expect(text).toContain('run/{runId}/actions');
    expect(text).toContain('hw/{deviceId}/state');
    await page.screenshot({ path: path.join(os.tmpdir(), 'labrun-docs-mqtt.png') });
    expect(requests).toContain(`${http}/asyncapi.json`);
    expect(elsewhere()).toEqual([]);
    expect(errors).toEqual([]);
  });
});
