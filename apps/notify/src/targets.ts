// Where notifications go: webhooks (a JSON POST) and e-mail addresses (over SMTP, with nodemailer). Each target
// says how it went — sent, failed for a while (worth another try), or failed for good — and how to name it in a
// log without giving its secrets away: a Slack webhook's path is its password, and so is an SMTP URL's.
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { emailBody, emailSubject, type Notification } from './message.js';
import type { Email, Webhook } from './notify-file.js';

export type SendResult = { ok: true } | { ok: false; error: string; permanent: boolean };

export interface Target {
  /** Stable across restarts and edits of the file's order: the state file keys deliveries by it. */
  readonly id: string;
  /** How logs name it: no path, query or credentials. */
  readonly label: string;
  send(notification: Notification): Promise<SendResult>;
  close?(): void;
}

/** `https://hooks.slack.com/services/T0/B0/secret?x=y` → `https://hooks.slack.com`: safe to log. */
export function redactUrl(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return '(an invalid URL)';
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Statuses that say the request itself is wrong, so another try would fail the same way (408 and 429 are "later"). */
const permanentHttp = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** Why a request failed, in a line: the connection's error code and message, never the URL. */
function describeFetchError(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time';
  const cause = e.cause;
  return cause ? `${cause.code ?? cause.name}: ${cause.message}` : e.message;
}

export function webhookTarget(hook: Webhook, index: number, timeoutMs: number): Target {
  const url = new URL(hook.url);
  // fetch refuses a URL with credentials; they become Basic authentication, as curl would send them.
  const basic = url.username || url.password ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : undefined;
  url.username = '';
  url.password = '';
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'labrun-notify', ...(basic ? { authorization: basic } : {}), ...hook.headers };
  return {
    id: `webhook:${digest(hook.url)}`,
    label: `webhook ${index + 1} (${redactUrl(hook.url)})`,
    async send(notification) {
      try {
        const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(notification), signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
        await response.arrayBuffer().catch(() => undefined); // read to the end, so the connection can be reused
        if (response.ok) return { ok: true };
        return { ok: false, error: `HTTP ${response.status} ${response.statusText}`.trim(), permanent: permanentHttp(response.status) };
      } catch (error) {
        return { ok: false, error: describeFetchError(error), permanent: false };
      }
    },
  };
}

/** One target per address: a refused or bouncing address does not keep the others from their e-mail. */
export function emailTargets(email: Email, timeoutMs: number): Target[] {
  const server = new URL(email.smtp);
  const where = `${server.protocol}//${server.host}`;
  // A relay on this machine (a local Postfix, MailHog, a test server) often offers STARTTLS with a self-signed
  // certificate: checking it would refuse every e-mail, and the mail never leaves the machine. Anywhere else the
  // certificate is checked, unless the URL says otherwise (`?tls.rejectUnauthorized=false`, `?ignoreTLS=true`).
  const tls = loopback(server.hostname) ? { tls: { rejectUnauthorized: false } } : {};
  const transport = nodemailer.createTransport({ url: email.smtp, ...tls, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs, logger: false, debug: false } as never);
  return email.to.map((address, i) => ({
    id: `email:${digest(`${email.smtp}\n${address}`)}`,
    label: `e-mail to ${address} via ${where}`,
    async send(notification) {
      try {
        await transport.sendMail({ from: email.from, to: address, subject: emailSubject(notification), text: emailBody(notification) });
        return { ok: true };
      } catch (error) {
        const e = error as Error & { code?: string; responseCode?: number; response?: string };
        // A 5xx answer (no such mailbox, relaying refused, bad login) will be the same next time.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
        return { ok: false, error: [e.code, e.response ?? e.message].filter(Boolean).join(': '), permanent };
      }
    },
    close: i === 0 ? () => transport.close() : undefined,
  }));
}

/** Whether a host name is this machine (127.0.0.0/8, ::1, localhost). */
export function loopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
