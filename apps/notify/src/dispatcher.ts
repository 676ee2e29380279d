// Delivering notifications: every target on its own, retried with exponential backoff, each try and its outcome
// recorded in the state file before and after it is made. A target that keeps failing is logged and given up;
// it never holds up the others.
import type { Logger } from '@labrun/service';
import type { Notification } from './message.js';
import type { RetryPolicy } from './notify-file.js';
import type { NotifyState } from './state-file.js';
import type { Target } from './targets.js';

/** The wait after `attempts` failed tries: initialDelayMs, doubling, at most maxDelayMs. */
export function backoffMs(policy: RetryPolicy, attempts: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempts - 1));
}

export class Dispatcher {
  private readonly running = new Set<Promise<void>>();
  private readonly waits = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly targets: readonly Target[],
    private readonly policy: RetryPolicy,
    private readonly state: NotifyState,
    private readonly log: Logger,
  ) {}

  get targetIds(): string[] {
    return this.targets.map((t) => t.id);
  }

  /** Send a notification already recorded under `key` to every target. */
  dispatch(key: string): void {
    for (const target of this.targets) this.start(key, target);
  }

  /**
   * After a restart: go on with what was recorded and not finished. A delivery that was pending or waiting for
   * its next try is carried on; one whose try was on the wire when the service stopped may have arrived, so it
   * is not sent again (never twice) and the log says so.
   */
  resume(): void {
    for (const [key, recorded] of this.state.unfinished()) {
      for (const target of this.targets) {
        const delivery = recorded.deliveries[target.id];
        if (!delivery) continue;
        if (delivery.state === 'sending') {
          this.state.update(key, target.id, { state: 'unknown', attempts: delivery.attempts, error: 'the service stopped while sending' });
          this.log.warn('a notification was being sent when the service stopped: not sending it again, it may not have arrived', { key, target: target.label });
        } else if (delivery.state === 'pending' || delivery.state === 'retrying') {
          this.start(key, target);
        }
      }
    }
    void this.save();
  }

  /** Stop retrying (deliveries waiting for a retry stay `retrying` in the state, for the next start) and let tries on the wire end. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    for (const wake of this.waits) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const target of this.targets) target.close?.();
    await this.save();
  }

  private start(key: string, target: Target): void {
    const delivery = this.deliver(key, target).catch((error: unknown) => this.log.error('notification delivery failed unexpectedly', { key, target: target.label, error: (error as Error).message }));
    this.running.add(delivery);
    void delivery.finally(() => this.running.delete(delivery));
  }

  private async deliver(key: string, target: Target): Promise<void> {
    const recorded = this.state.get(key);
    if (!recorded) return;
    const notification: Notification = recorded.notification;
    let attempts = recorded.deliveries[target.id]?.attempts ?? 0;
    const about = { key, runId: notification.runId, status: notification.status, target: target.label };
    if (attempts > 0 && !(await this.wait(backoffMs(this.policy, attempts)))) return;
    while (!this.closed) {
      attempts++;
      // On disk before it is on the wire: a crash now leaves `sending`, which a restart does not repeat.
      this.state.update(key, target.id, { state: 'sending', attempts });
      if (!(await this.save())) return;
      const result = await target.send(notification);
      if (result.ok) {
        this.state.update(key, target.id, { state: 'sent', attempts });
        await this.save();
        this.log.info('notified', { ...about, attempts });
        return;
      }
      if (result.permanent || attempts >= this.policy.attempts) {
        this.state.update(key, target.id, { state: 'failed', attempts, error: result.error });
        await this.save();
        this.log.warn('gave up notifying', { ...about, attempts, error: result.error, why: result.permanent ? 'the target refused it' : `${attempts} tries failed` });
        return;
      }
      const delayMs = backoffMs(this.policy, attempts);
      this.state.update(key, target.id, { state: 'retrying', attempts, error: result.error });
      await this.save();
      this.log.warn('could not notify, trying again', { ...about, attempt: attempts, of: this.policy.attempts, retryInMs: delayMs, error: result.error });
      if (!(await this.wait(delayMs))) return;
    }
  }

  /** Wait `ms`; false if the dispatcher closed meanwhile. */
  private wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve(!this.closed);
      };
      const timer = setTimeout(wake, ms);
      this.waits.add(wake);
    });
  }

  /** Save the state; false (and logged) if it could not be written — then nothing is sent that it could not remember. */
  private async save(): Promise<boolean> {
    try {
      await this.state.save();
      return true;
    } catch (error) {
      this.log.error('could not write the notify state', { file: this.state.file, error: (error as Error).message });
      return false;
    }
  }
}
