// What a notification says: the facts of the change (for a webhook's JSON), a Slack-compatible line, and an
// e-mail's subject and body — all from one status document. Pure.
import type { RunStatus, RunStatusDocument } from '@labrun/contracts';

export interface Notification {
  runId: string;
  name: string;
  deviceId: string;
  status: RunStatus;
  /** Why the run needs someone: the pause message, or the error's for a failed or recovering run; null if none. */
  message: string | null;
  /** The status document's seq: with runId, what makes this change the one it is. */
  seq: number;
  /** When the status changed (the document's updatedAt). */
  at: string;
  /** The run on the dashboard. */
  link: string;
  /** One line for Slack (or Mattermost, Rocket.Chat, …): mrkdwn with the link. */
  text: string;
}

const EMOJI: Partial<Record<RunStatus, string>> = {
  paused: ':pause_button:',
  pausing: ':pause_button:',
  blocked: ':no_entry:',
  'awaiting-recovery': ':warning:',
  failed: ':x:',
  stopped: ':stop_button:',
  succeeded: ':white_check_mark:',
  running: ':arrow_forward:',
};

/** "awaiting-recovery" → "awaiting recovery": the status as a sentence says it. */
const spoken = (status: RunStatus) => status.replace('-', ' ');

/** Why the run is where it is, in the words a person acts on. */
export function reasonOf(doc: RunStatusDocument): string | null {
  switch (doc.status) {
    case 'awaiting-recovery':
    case 'failed':
      return doc.error?.message ?? doc.pause?.message ?? null;
    case 'blocked':
      return doc.interlock?.message ?? doc.pause?.message ?? null;
    default:
      return doc.pause?.message ?? doc.error?.message ?? null;
  }
}

/** The dashboard's page for a run: `<dashboardUrl>/#run=<runId>`. */
export function runLink(dashboardUrl: string, runId: string): string {
  return `${dashboardUrl.replace(/\/+$/, '')}/#run=${encodeURIComponent(runId)}`;
}

/** Slack's mrkdwn gives &, < and > meanings; text from a protocol must not open a link or mention a channel. */
const slackEscape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function buildNotification(doc: RunStatusDocument, dashboardUrl: string): Notification {
  const message = reasonOf(doc);
  const link = runLink(dashboardUrl, doc.runId);
  const headline = `Run *${slackEscape(doc.name)}* (${slackEscape(doc.runId)}) on ${slackEscape(doc.deviceId)} is ${spoken(doc.status)}`;
  const text = `${EMOJI[doc.status] ?? ':information_source:'} ${headline}${message ? `: ${slackEscape(message)}` : ''} <${link}>`;
  return { runId: doc.runId, name: doc.name, deviceId: doc.deviceId, status: doc.status, message, seq: doc.seq, at: doc.updatedAt, link, text };
}

const SUBJECT_MESSAGE_CHARS = 120;

/** `labrun: Serial dilution (r-42) paused — Check the samples`, on one line. */
export function emailSubject(n: Notification): string {
  const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
  const message = n.message ? oneLine(n.message) : '';
  const short = message.length > SUBJECT_MESSAGE_CHARS ? `${message.slice(0, SUBJECT_MESSAGE_CHARS - 1)}…` : message;
  return `labrun: ${oneLine(n.name)} (${n.runId}) ${spoken(n.status)}${short ? ` — ${short}` : ''}`;
}

export function emailBody(n: Notification): string {
  return [
    `Run "${n.name}" (${n.runId}) on ${n.deviceId} is ${spoken(n.status)}.`,
    '',
    ...(n.message ? [n.message, ''] : []),
    `Open it on the dashboard: ${n.link}`,
    '',
    `(status seq ${n.seq}, ${n.at})`,
    '',
  ].join('\n');
}
