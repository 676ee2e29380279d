// What a notification says, and which status documents are changes worth one.
import { describe, expect, it } from 'vitest';
import { RunStatusDocument } from '@labrun/contracts';
import { changeKey, decide, fingerprint } from './changes.js';
import { backoffMs } from './dispatcher.js';
import { buildNotification, emailBody, emailSubject } from './message.js';
import { redactUrl } from './targets.js';

const AT = '2026-11-24T10:00:00.000Z';

function status(overrides: Partial<RunStatusDocument> = {}): RunStatusDocument {
  const pause = { source: 'protocol' as const, message: 'Check the samples', since: AT, by: null };
  return RunStatusDocument.parse({
    runId: 'r-42',
    name: 'Serial dilution',
    deviceId: 'sim-1',
    status: 'paused',
    pause: { ...pause, reasons: [pause] },
    interlock: null,
    delay: null,
    current: { index: 2, type: 'pause', startedAt: AT },
    progress: { completed: 2, total: 5 },
    allowedActions: ['resume', 'stop'],
    error: null,
    recovery: null,
    createdAt: AT,
    startedAt: AT,
    completedAt: null,
    seq: 17,
    updatedAt: AT,
    ...overrides,
  });
}

const failed = () => status({ status: 'awaiting-recovery', pause: null, error: { code: 'not-homed', message: 'GRBL is in Alarm: home the machine, then retry', commandIndex: 0 }, seq: 5 });

describe('a notification', () => {
  it('carries the run, the message, the seq, the time and the dashboard link, and a Slack line', () => {
    expect(buildNotification(status(), 'http://127.0.0.1:8080/')).toEqual({
      runId: 'r-42',
      name: 'Serial dilution',
      deviceId: 'sim-1',
      status: 'paused',
      message: 'Check the samples',
      seq: 17,
      at: AT,
      link: 'http://127.0.0.1:8080/#run=r-42',
      text: ':pause_button: Run *Serial dilution* (r-42) on sim-1 is paused: Check the samples <http://127.0.0.1:8080/#run=r-42>',
    });
  });

  it("says a failed command's error for a run awaiting recovery", () => {
    const n = buildNotification(failed(), 'http://lab:8080');
    expect(n.message).toBe('GRBL is in Alarm: home the machine, then retry');
    expect(n.text).toBe(':warning: Run *Serial dilution* (r-42) on sim-1 is awaiting recovery: GRBL is in Alarm: home the machine, then retry <http://lab:8080/#run=r-42>');
  });

  it("escapes Slack's &, < and > in text from the protocol", () => {
    const pause = { source: 'user' as const, message: 'tips <empty> & @channel', since: AT, by: 'ana' };
    expect(buildNotification(status({ name: 'A<b>', pause: { ...pause, reasons: [pause] } }), 'http://x').text).toContain(
      'Run *A&lt;b&gt;* (r-42) on sim-1 is paused: tips &lt;empty&gt; &amp; @channel <http://x/#run=r-42>',
    );
  });

  it('makes an e-mail whose subject and body carry the message', () => {
    const n = buildNotification(status(), 'http://127.0.0.1:8080');
    expect(emailSubject(n)).toBe('labrun: Serial dilution (r-42) paused — Check the samples');
    expect(emailBody(n)).toBe(
      ['Run "Serial dilution" (r-42) on sim-1 is paused.', '', 'Check the samples', '', 'Open it on the dashboard: http://127.0.0.1:8080/#run=r-42', '', `(status seq 17, ${AT})`, ''].join('\n'),
    );
    const long = { ...n, message: `line one\nline two ${'x'.repeat(300)}` };
    expect(emailSubject(long)).toMatch(/^labrun: Serial dilution \(r-42\) paused — line one line two x+…$/);
    expect(emailSubject(long).length).toBeLessThan(180);
    expect(emailSubject({ ...n, message: null })).toBe('labrun: Serial dilution (r-42) paused');
  });
});

describe('which statuses are notified', () => {
  const context = { on: ['paused', 'awaiting-recovery'] as const, recorded: () => false, recentMs: 3_600_000, now: Date.parse(AT) + 1000 };

  it('notifies a change to a listed status, keyed by run and seq', () => {
    expect(decide(status(), { ...context, last: fingerprint(status({ status: 'running', pause: null })) })).toEqual({ notify: true, key: 'r-42:17' });
    expect(decide(status(), { ...context, last: undefined })).toEqual({ notify: true, key: changeKey(status()) });
  });

  it('does not notify the same situation republished, a status not listed, or a key already recorded', () => {
    expect(decide(status({ seq: 18, progress: { completed: 3, total: 5 } }), { ...context, last: fingerprint(status()) })).toEqual({ notify: false, why: 'no change' });
    expect(decide(status({ status: 'running', pause: null }), { ...context, last: undefined })).toEqual({ notify: false, why: 'running is not in "on"' });
    expect(decide(status(), { ...context, last: undefined, recorded: (key) => key === 'r-42:17' })).toEqual({ notify: false, why: 'already notified' });
  });

  it('counts a new pause message, or a new pause with the same message, as a change', () => {
    const pause = { source: 'user' as const, message: 'refill tips', since: AT, by: 'ana' };
    expect(decide(status({ pause: { ...pause, reasons: [pause] }, seq: 20 }), { ...context, last: fingerprint(status()) }).notify).toBe(true);
    const later = { source: 'protocol' as const, message: 'Check the samples', since: '2026-11-24T10:00:01.000Z', by: null };
    expect(decide(status({ pause: { ...later, reasons: [later] }, seq: 30 }), { ...context, last: fingerprint(status()) }).notify).toBe(true);
  });

  it('does not notify a change older than the recent window (a stale retained status)', () => {
    expect(decide(status(), { ...context, last: undefined, now: Date.parse(AT) + 3_601_000 })).toEqual({ notify: false, why: 'the change is 3601 s old (recentSeconds)' });
  });
});

describe('delivery', () => {
  it('backs off exponentially from the initial delay, capped', () => {
    const policy = { attempts: 8, initialDelayMs: 1000, maxDelayMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('names a webhook in logs without its path, query or credentials', () => {
    expect(redactUrl('https://user:pw@hooks.slack.com:443/services/T0/B0/SECRET?token=abc')).toBe('https://hooks.slack.com');
    expect(redactUrl('http://127.0.0.1:9000/hook')).toBe('http://127.0.0.1:9000');
  });
});
