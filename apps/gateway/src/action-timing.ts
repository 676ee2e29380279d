// How long the engine takes to answer an action, as the gateway sees it: from the action on run/<id>/actions
// (from any client — the gateway's own HTTP actions come back to it the same way) to the `action.accepted` or
// `action.rejected` event that answers it on run/<id>/events.
//
// Matching: an action with an `id` is answered by the event with that `actionId`. A bare word (`resume`) or an
// action without an id gets an id the engine makes up, so its answer is matched to the oldest unanswered action
// of that run with the same type label (its type, or `invalid` for a payload the engine cannot read — exactly as
// the engine will label it). Two anonymous actions of one type on one run in flight at once are told apart by
// order, which is the order the engine answers them in. An action nobody answers within `windowMs` is dropped
// and counted as unanswered; at most `maxPending` wait at once (the oldest go first), so memory stays bounded.
import { actionIdentity, decodeAction, type RunEventOf } from '@labrun/contracts';
import { actionTypeLabel } from '@labrun/service/metrics';

/** Long enough for an engine that restarts (its persistent session keeps actions waiting); short enough to stay small. */
export const ANSWER_WINDOW_MS = 60_000;
export const MAX_PENDING_ACTIONS = 10_000;

interface Pending {
  key: string;
  seenAt: number;
}

export type ActionAnswer = RunEventOf<'action.accepted'> | RunEventOf<'action.rejected'>;

const byId = (runId: string, id: string) => `id\u0000${runId}\u0000${id}`;
const byType = (runId: string, type: string) => `type\u0000${runId}\u0000${type}`;

export class ActionTimer {
  /** Unanswered actions by match key, oldest first. */
  private readonly waiting = new Map<string, Pending[]>();
  /** Every unanswered action in the order it was seen, for expiry. */
  private readonly order = new Set<Pending>();

  constructor(
    private readonly windowMs = ANSWER_WINDOW_MS,
    private readonly maxPending = MAX_PENDING_ACTIONS,
  ) {}

  /** How many actions wait for their answer. */
  get pending(): number {
    return this.order.size;
  }

  /** An action was published to run/<runId>/actions at `at` (ms, monotonic). Returns how many were dropped to make room. */
  seen(runId: string, payload: Uint8Array, at: number): number {
    const decoded = decodeAction(payload);
    const id = decoded.ok ? decoded.value.id : actionIdentity(payload).id;
    const key = id !== undefined ? byId(runId, id) : byType(runId, actionTypeLabel(decoded.ok ? decoded.value.type : null));
    let dropped = 0;
    while (this.order.size >= this.maxPending) {
      this.forget(this.order.values().next().value!);
      dropped++;
    }
    const pending = { key, seenAt: at };
    const queue = this.waiting.get(key);
    if (queue) queue.push(pending);
    else this.waiting.set(key, [pending]);
    this.order.add(pending);
    return dropped;
  }

  /** An answer arrived at `at`: the seconds since its action was seen, or null when no action seen here matches it. */
  answered(event: ActionAnswer, at: number): number | null {
    const pending = this.take(byId(event.runId, event.actionId)) ?? this.take(byType(event.runId, actionTypeLabel(event.action)));
    return pending ? Math.max(0, at - pending.seenAt) / 1000 : null;
  }

  /** Drop the actions seen before `at - windowMs`; returns how many. */
  expire(at: number): number {
    let expired = 0;
    for (const pending of this.order) {
      if (pending.seenAt > at - this.windowMs) break;
      this.forget(pending);
      expired++;
    }
    return expired;
  }

  private take(key: string): Pending | undefined {
    const pending = this.waiting.get(key)?.[0];
    if (pending) this.forget(pending);
    return pending;
  }

  /** Remove an unanswered action; it is always the first of its queue (queues and `order` share the order seen). */
  private forget(pending: Pending): void {
    this.order.delete(pending);
    const queue = this.waiting.get(pending.key);
    if (!queue) return;
    queue.shift();
    if (queue.length === 0) this.waiting.delete(pending.key);
  }
}
