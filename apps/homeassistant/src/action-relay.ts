// Home Assistant's button presses, carried to the device's current run: `resume` on `labrun/ha/<id>/action` becomes
// `{ "type": "resume", "id": "ha-…", "by": "home-assistant" }` on `run/<currentRunId>/actions`. The engine's answer
// (`action.accepted` / `action.rejected` on the run's events) is logged: Home Assistant buttons have no way back.
import { randomUUID } from 'node:crypto';
import { decodeJson, decodeText, topics } from '@labrun/contracts';
import type { Logger } from '@labrun/service';
import { PRESS_ACTIONS, type PressAction } from './discovery.js';
import type { Fleet } from './fleet.js';

/** What `by` says in the run's pause banner and events. */
export const PRESSED_BY = 'home-assistant';
const PRESS_LIMITS = { maxBytes: 256, maxDepth: 1 };
const EVENT_LIMITS = { maxBytes: 64 * 1024, maxDepth: 8 };

export interface ActionRelayOptions {
  fleet: Fleet;
  publish: (topic: string, payload: string) => Promise<void>;
  subscribe: (topic: string) => Promise<void>;
  unsubscribe: (topic: string) => Promise<void>;
  log: Logger;
  /** How long to wait for the engine's answer before saying none came. */
  answerTimeoutMs?: number;
}

interface Pending {
  deviceId: string;
  runId: string;
  action: PressAction;
  timer: NodeJS.Timeout;
}

/** A press payload: one of the buttons' words, or a reason it is not one. */
export function readPress(payload: Uint8Array): { ok: true; action: PressAction } | { ok: false; error: string } {
  const text = decodeText(payload, PRESS_LIMITS);
  if (!text.ok) return { ok: false, error: text.error };
  const word = text.value.trim();
  if ((PRESS_ACTIONS as readonly string[]).includes(word)) return { ok: true, action: word as PressAction };
  return { ok: false, error: `expected one of ${PRESS_ACTIONS.join(', ')}, got ${JSON.stringify(word.slice(0, 40))}` };
}

export class ActionRelay {
  private readonly pending = new Map<string, Pending>();
  /** Run event topics subscribed to: how many presses wait on each, and the subscription. */
  private readonly watching = new Map<string, { count: number; subscribed: Promise<void> }>();

  constructor(private readonly options: ActionRelayOptions) {}

  /** A message on a device's action topic. Never throws: bad presses are logged. */
  async press(deviceId: string, payload: Uint8Array): Promise<void> {
    const { log, fleet } = this.options;
    const press = readPress(payload);
    if (!press.ok) {
      log.warn('ignored a Home Assistant press', { deviceId, error: press.error });
      return;
    }
    const run = fleet.currentRun(deviceId);
    if (run === null) {
      log.warn(`ignored a Home Assistant ${press.action}: device ${deviceId} has no current run`, { deviceId });
      return;
    }
    const id = `ha-${randomUUID()}`;
    const events = topics.run(run.runId, 'events');
    const timer = setTimeout(
      () => this.settle(id, () => log.warn('no answer from the engine to a Home Assistant action', { deviceId, runId: run.runId, action: press.action, actionId: id })),
      this.options.answerTimeoutMs ?? 10_000,
    );
    this.pending.set(id, { deviceId, runId: run.runId, action: press.action, timer });
    try {
      // Subscribed before the action leaves, so the answer cannot slip past.
      await this.watch(events);
      await this.options.publish(topics.run(run.runId, 'actions'), JSON.stringify({ type: press.action, id, by: PRESSED_BY }));
      log.info('sent a Home Assistant action', { deviceId, runId: run.runId, action: press.action, actionId: id });
    } catch (error) {
      this.settle(id, () => undefined);
      log.warn('could not send a Home Assistant action', { deviceId, runId: run.runId, action: press.action, error: (error as Error).message });
    }
  }

  /** A message on `run/<runId>/events`: the answer to a press, if it is one. */
  answer(runId: string, payload: Uint8Array): void {
    const json = decodeJson(payload, EVENT_LIMITS);
    if (!json.ok || typeof json.value !== 'object' || json.value === null) return;
    const event = json.value as { type?: unknown; actionId?: unknown; code?: unknown; message?: unknown };
    if (typeof event.actionId !== 'string') return;
    const pending = this.pending.get(event.actionId);
    if (!pending || pending.runId !== runId) return;
    const { log } = this.options;
    const fields = { deviceId: pending.deviceId, runId, action: pending.action, actionId: event.actionId };
    if (event.type === 'action.accepted') this.settle(event.actionId, () => log.info('the engine accepted a Home Assistant action', fields));
    else if (event.type === 'action.rejected')
      this.settle(event.actionId, () => log.warn(`the engine rejected a Home Assistant ${pending.action}: ${String(event.message)}`, { ...fields, code: event.code }));
  }

  close(): void {
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }

  private settle(actionId: string, report: () => void): void {
    const pending = this.pending.get(actionId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(actionId);
    report();
    void this.unwatch(topics.run(pending.runId, 'events'));
  }

  private watch(topic: string): Promise<void> {
    const watched = this.watching.get(topic);
    if (watched) {
      watched.count++;
      return watched.subscribed;
    }
    const subscribed = this.options.subscribe(topic);
    this.watching.set(topic, { count: 1, subscribed });
    return subscribed;
  }

  private async unwatch(topic: string): Promise<void> {
    const watched = this.watching.get(topic);
    if (!watched) return;
    if (--watched.count > 0) return;
    this.watching.delete(topic);
    await this.options.unsubscribe(topic).catch(() => undefined);
  }
}
