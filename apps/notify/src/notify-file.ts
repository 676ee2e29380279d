// The notify file (LABRUN_NOTIFY_FILE): which run statuses tell people, and whom — webhooks and e-mail addresses.
// Read once at start-up; anything wrong in it stops the service with the file's name and the field at fault.
import fs from 'node:fs';
import { ConfigError, RUN_STATUSES } from '@labrun/contracts';
import { z } from 'zod';

const httpUrl = (what: string) =>
  z.string({ error: `expected ${what} as a string` }).refine((text) => /^https?:$/.test(safeUrl(text)?.protocol ?? ''), { error: `expected ${what}: an http:// or https:// URL` });

const smtpUrl = z
  .string({ error: 'expected the SMTP server as a string such as smtp://mail.example.org:587' })
  .refine((text) => /^smtps?:$/.test(safeUrl(text)?.protocol ?? '') && safeUrl(text)?.hostname !== '', {
    error: 'expected the SMTP server as smtp://host:port or smtps://host:port (credentials as smtp://user:password@host:port)',
  });

// A deliberately loose check: the SMTP server is the judge of an address; this catches a name put where an address goes.
const emailAddress = z.string({ error: 'expected an e-mail address' }).regex(/^[^\s@<>]+@[^\s@<>]+$/, { error: 'expected an e-mail address such as lab@example.org' });

/** A header name as HTTP allows it (a token), so a typo fails here and not on every POST. */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name' });

export const Webhook = z.strictObject({
  url: httpUrl('the webhook URL'),
  /** Extra request headers (an Authorization header, say); never logged. */
  headers: z.record(headerName, z.string().regex(/^[^\r\n]*$/, { error: 'a header value must be one line' })).optional(),
});
export type Webhook = z.infer<typeof Webhook>;

export const Email = z.strictObject({
  smtp: smtpUrl,
  from: z.string({ error: 'expected the sender, such as "labrun <lab@example.org>"' }).regex(/@/, { error: 'expected the sender address, such as "labrun <lab@example.org>"' }),
  to: z.array(emailAddress).min(1, { error: 'expected at least one address to send to' }),
});
export type Email = z.infer<typeof Email>;

export const RetryPolicy = z.strictObject({
  /** Tries per target, the first included. */
  attempts: z.number().int().min(1).max(100).default(6),
  /** Wait before the second try; it doubles for each try after that. */
  initialDelayMs: z.number().int().min(1).max(3_600_000).default(1000),
  maxDelayMs: z.number().int().min(1).max(86_400_000).default(60_000),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const NotifyFile = z
  .strictObject({
    on: z
      .array(z.enum(RUN_STATUSES, { error: (issue) => `${JSON.stringify(issue.input)} is not a run status: expected one of ${RUN_STATUSES.join(', ')}` }))
      .min(1, { error: `expected at least one run status, such as ["paused", "awaiting-recovery", "failed"]` }),
    webhooks: z.array(Webhook).default([]),
    email: Email.optional(),
    /** The dashboard the links point at: `<dashboardUrl>/#run=<runId>`. Unset: the gateway's address (config.ts). */
    dashboardUrl: httpUrl('the dashboard URL').optional(),
    retry: RetryPolicy.default({ attempts: 6, initialDelayMs: 1000, maxDelayMs: 60_000 }),
    /** How long one webhook request or SMTP conversation may take before it counts as a failed try. */
    timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    /**
     * A status older than this (its updatedAt) is not notified: that is a retained status of a run that changed
     * while this service was not running, long enough ago that nobody wants to hear of it now.
     */
    recentSeconds: z.number().int().min(0).default(3600),
  })
  .refine((file) => file.webhooks.length > 0 || file.email !== undefined, { error: 'nobody to notify: give "webhooks", "email", or both' });
export type NotifyConfig = z.infer<typeof NotifyFile>;

/** Parse the notify file's text; throws a ConfigError naming the file and each field at fault. */
export function parseNotifyFile(text: string, file: string): NotifyConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`invalid notify file ${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = NotifyFile.safeParse(json);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.length > 0 ? fieldName(issue.path) : '(the file)'}: ${issue.message}`);
  throw new ConfigError(`invalid notify file ${file} (LABRUN_NOTIFY_FILE):\n${lines.join('\n')}`);
}

export function readNotifyFile(file: string): NotifyConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the notify file ${file} (LABRUN_NOTIFY_FILE): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseNotifyFile(text, file);
}

/** `webhooks[1].url`, as a user finds the field in the file. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join('');
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
