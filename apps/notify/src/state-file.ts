// What the notify service has sent and is sending, on disk (LABRUN_NOTIFY_STATE), so that a restart neither sends
// a change twice nor forgets a delivery it was retrying. Written whole, atomically (replaceFile: a temporary file, fdatasync, rename, directory fsync).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '@labrun/service';
import { replaceFile } from '@labrun/service/files';
import type { Notification } from './message.js';

export type DeliveryState =
  | 'pending' // recorded, not tried yet
  | 'sending' // a try is on the wire: after a crash nobody knows whether it arrived
  | 'retrying' // the last try failed; the next one is due
  | 'sent'
  | 'failed' // gave up
  | 'unknown'; // was being sent when the service stopped: not sent again, so as never to send it twice

export interface Delivery {
  state: DeliveryState;
  attempts: number;
  error?: string;
  at: string;
}

export interface Recorded {
  notification: Notification;
  recordedAt: string;
  deliveries: Record<string, Delivery>;
}

interface StateData {
  version: 1;
  /** Each run's last notified situation (changes.ts fingerprint), so a restart does not take it for a new one. */
  runs: Record<string, { fingerprint: string; at: string }>;
  notifications: Record<string, Recorded>;
}

/** Finished notifications kept (oldest forgotten first): enough to answer for any status still retained. */
const KEEP_NOTIFICATIONS = 2000;
const KEEP_RUNS = 10_000;

export class NotifyState {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    readonly file: string,
    private readonly data: StateData,
  ) {}

  /** The state file as it is, or an empty state if there is none; an unreadable file is kept aside and named. */
  static open(file: string, log: Logger): NotifyState {
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the notify state ${file}: ${(error as Error).message}`);
    }
    if (text === undefined) return new NotifyState(file, empty());
    try {
      const data = JSON.parse(text) as StateData;
      if (data?.version !== 1 || typeof data.runs !== 'object' || typeof data.notifications !== 'object') throw new Error('not a notify state (version 1)');
      return new NotifyState(file, data);
    } catch (error) {
      const aside = `${file}.unreadable-${Date.now()}`;
      fs.renameSync(file, aside);
      log.warn('the notify state was unreadable: kept aside, starting afresh (recent changes may be notified again)', { file, keptAs: aside, error: (error as Error).message });
      return new NotifyState(file, empty());
    }
  }

  lastFingerprint(runId: string): string | undefined {
    return this.data.runs[runId]?.fingerprint;
  }

  has(key: string): boolean {
    return key in this.data.notifications;
  }

  get(key: string): Recorded | undefined {
    return this.data.notifications[key];
  }

  /** Record a change to notify, every target `pending`, before anything is sent. */
  record(key: string, notification: Notification, fingerprint: string, targetIds: readonly string[]): void {
    const at = new Date().toISOString();
    this.data.runs[notification.runId] = { fingerprint, at };
    this.data.notifications[key] = { notification, recordedAt: at, deliveries: Object.fromEntries(targetIds.map((id) => [id, { state: 'pending', attempts: 0, at }])) };
    this.dirty = true;
  }

  update(key: string, targetId: string, delivery: Omit<Delivery, 'at'>): void {
    const recorded = this.data.notifications[key];
    if (!recorded) return;
    recorded.deliveries[targetId] = { ...delivery, at: new Date().toISOString() };
    this.dirty = true;
  }

  /** Every recorded notification with a delivery not yet finished, oldest first. */
  unfinished(): [string, Recorded][] {
    return Object.entries(this.data.notifications)
      .filter(([, r]) => Object.values(r.deliveries).some((d) => d.state === 'pending' || d.state === 'sending' || d.state === 'retrying'))
      .sort(([, a], [, b]) => a.recordedAt.localeCompare(b.recordedAt));
  }

  /** Write the state if it changed; resolves once what was recorded before the call is on disk. */
  save(): Promise<void> {
    // A failed write (a full disk) fails this save, not the ones after it.
    this.writing = this.writing.catch(() => undefined).then(() => (this.dirty ? this.write() : undefined));
    return this.writing;
  }

  private async write(): Promise<void> {
    this.dirty = false;
    this.prune();
    try {
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      await replaceFile(this.file, `${JSON.stringify(this.data)}\n`, { mode: 0o600 });
    } catch (error) {
      // Not on disk: the next save writes it, even if nothing else changes meanwhile.
      this.dirty = true;
      throw error;
    }
  }

  private prune(): void {
    const finished = Object.entries(this.data.notifications)
      .filter(([, r]) => Object.values(r.deliveries).every((d) => d.state === 'sent' || d.state === 'failed' || d.state === 'unknown'))
      .sort(([, a], [, b]) => a.recordedAt.localeCompare(b.recordedAt));
    for (const [key] of finished.slice(0, Math.max(0, finished.length - KEEP_NOTIFICATIONS))) delete this.data.notifications[key];
    const runs = Object.entries(this.data.runs).sort(([, a], [, b]) => a.at.localeCompare(b.at));
    for (const [runId] of runs.slice(0, Math.max(0, runs.length - KEEP_RUNS))) delete this.data.runs[runId];
  }
}

const empty = (): StateData => ({ version: 1, runs: {}, notifications: {} });
