// The notify file: what it accepts, its defaults, and how it names what is wrong.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@labrun/contracts';
import { loadConfig } from './config.js';
import { parseNotifyFile, readNotifyFile } from './notify-file.js';

const FILE = '/etc/labrun/notify.json';
const parse = (value: unknown) => parseNotifyFile(JSON.stringify(value), FILE);
const problem = (value: unknown) => {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the file to be refused');
};

describe('the notify file', () => {
  it('reads the example from the README, with the defaults filled in', () => {
    const config = parse({
      on: ['paused', 'awaiting-recovery', 'failed'],
      webhooks: [{ url: 'https://hooks.slack.com/services/T0/B0/xyz' }],
      email: { smtp: 'smtp://mail.example.org:587', from: 'labrun <lab@example.org>', to: ['ana@example.org'] },
    });
    expect(config).toEqual({
      on: ['paused', 'awaiting-recovery', 'failed'],
      webhooks: [{ url: 'https://hooks.slack.com/services/T0/B0/xyz' }],
      email: { smtp: 'smtp://mail.example.org:587', from: 'labrun <lab@example.org>', to: ['ana@example.org'] },
      retry: { attempts: 6, initialDelayMs: 1000, maxDelayMs: 60_000 },
      timeoutMs: 10_000,
      recentSeconds: 3600,
    });
  });

  it('takes webhook headers, smtps with credentials, a dashboard URL and a retry policy', () => {
    const config = parse({
      on: ['failed'],
      webhooks: [{ url: 'http://127.0.0.1:9000/hook', headers: { Authorization: 'Bearer t' } }],
      email: { smtp: 'smtps://user:pass@mail.example.org:465', from: 'lab@example.org', to: ['a@example.org', 'b@example.org'] },
      dashboardUrl: 'https://lab.example.org/',
      retry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 200 },
    });
    expect(config.webhooks[0]!.headers).toEqual({ Authorization: 'Bearer t' });
    expect(config.retry).toEqual({ attempts: 3, initialDelayMs: 50, maxDelayMs: 200 });
  });

  it('names the file and the field: a status that is not a run status', () => {
    const message = problem({ on: ['paused', 'finished'], webhooks: [{ url: 'https://example.org/h' }] });
    expect(message).toContain(`invalid notify file ${FILE}`);
    expect(message).toMatch(/on\[1\]: "finished" is not a run status: expected one of idle, running, .*awaiting-recovery/);
  });

  it('refuses bad URLs, addresses and unknown fields, without echoing a URL (it may hold a secret)', () => {
    const message = problem({
      on: ['paused'],
      webhooks: [{ url: 'ftp://secret-host/SECRET' }],
      email: { smtp: 'http://mail:25', from: 'lab@example.org', to: ['not an address'] },
      retries: 3,
    });
    expect(message).toContain('webhooks[0].url: expected the webhook URL: an http:// or https:// URL');
    expect(message).toContain('email.smtp: expected the SMTP server as smtp://host:port or smtps://host:port');
    expect(message).toContain('email.to[0]: expected an e-mail address');
    expect(message).toMatch(/\(the file\): Unrecognized key: "retries"/);
    expect(message).not.toContain('SECRET');
  });

  it('needs somebody to notify and at least one status', () => {
    expect(problem({ on: ['paused'] })).toContain('nobody to notify: give "webhooks", "email", or both');
    expect(problem({ on: [], webhooks: [{ url: 'https://example.org/h' }] })).toContain('on: expected at least one run status');
  });

  it('says when the file is not JSON or cannot be read', () => {
    expect(() => parseNotifyFile('{ on: [', FILE)).toThrow(/invalid notify file \/etc\/labrun\/notify\.json: not JSON/);
    expect(() => readNotifyFile('/nonexistent/notify.json')).toThrow('cannot read the notify file /nonexistent/notify.json (LABRUN_NOTIFY_FILE): ENOENT');
  });
});

describe('notify configuration', () => {
  it('needs LABRUN_NOTIFY_FILE, and keeps its state beside the engine data by default', () => {
    expect(() => loadConfig({})).toThrow(/LABRUN_NOTIFY_FILE="": expected the path of the notify file/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-notify-config-'));
    const file = path.join(dir, 'notify.json');
    fs.writeFileSync(file, JSON.stringify({ on: ['paused'], webhooks: [{ url: 'https://example.org/h' }] }));
    try {
      expect(loadConfig({ LABRUN_NOTIFY_FILE: file }).LABRUN_NOTIFY_STATE).toBe(path.join('.labrun', 'notify-state.json'));
      expect(loadConfig({ LABRUN_NOTIFY_FILE: file, LABRUN_DATA_DIR: '/var/lib/labrun' }).LABRUN_NOTIFY_STATE).toBe('/var/lib/labrun/notify-state.json');
      expect(loadConfig({ LABRUN_NOTIFY_FILE: file, LABRUN_NOTIFY_STATE: '/tmp/s.json' }).LABRUN_NOTIFY_STATE).toBe('/tmp/s.json');
      // Links point at the gateway: its defaults, or the HTTP_HOST and HTTP_PORT it was given.
      expect(loadConfig({ LABRUN_NOTIFY_FILE: file }).notify.dashboardUrl).toBe('http://127.0.0.1:8080');
      expect(loadConfig({ LABRUN_NOTIFY_FILE: file, HTTP_HOST: 'lab-pc.local', HTTP_PORT: '8090' }).notify.dashboardUrl).toBe('http://lab-pc.local:8090');
      expect(loadConfig({ LABRUN_NOTIFY_FILE: file, HTTP_HOST: '0.0.0.0' }).notify.dashboardUrl).toBe(`http://${os.hostname()}:8080`);
      fs.writeFileSync(file, JSON.stringify({ on: ['paused'], webhooks: [{ url: 'https://example.org/h' }], dashboardUrl: 'https://lab.example.org' }));
      expect(loadConfig({ LABRUN_NOTIFY_FILE: file, HTTP_PORT: '8090' }).notify.dashboardUrl).toBe('https://lab.example.org');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
