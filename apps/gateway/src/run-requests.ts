// Asking the engine over MQTT and waiting for its answer: a create is answered by the run's status (or a
// `run.rejected` event), an action by the `action.accepted` or `action.rejected` event that carries its id.
// The answers arrive through the broker cache, which follows every run's status and events.
import { topics, type CreateRun, type RunAction, type RunEventOf, type RunStatusDocument } from '@labrun/contracts';
import type { BrokerCache, CacheUpdate } from './broker-cache.js';

/** How long the gateway waits for the engine before answering 504. */
export const ANSWER_TIMEOUT_MS = 5000;

export type CreateAnswer = { kind: 'created'; status: RunStatusDocument } | { kind: 'rejected'; event: RunEventOf<'run.rejected'> } | { kind: 'no-answer'; message: string };

export type ActionAnswer = { kind: 'accepted'; event: RunEventOf<'action.accepted'> } | { kind: 'rejected'; event: RunEventOf<'action.rejected'> } | { kind: 'no-answer'; message: string };

/** Publishes one MQTT message (QoS 1, not retained); rejects when the broker cannot take it. */
export type Publish = (topic: string, payload: string) => Promise<void>;

export class RunRequests {
  constructor(
    private readonly cache: BrokerCache,
    private readonly publish: Publish,
    private readonly timeoutMs = ANSWER_TIMEOUT_MS,
  ) {}

  /** Publish `run/<runId>/create` and wait for the engine's status of that run, or its refusal. */
  create(runId: string, request: CreateRun): Promise<CreateAnswer> {
    return this.ask(topics.run(runId, 'create'), JSON.stringify(request), `the create of run ${runId}`, (update) => {
      if (!('runId' in update) || update.runId !== runId) return null;
      if (update.kind === 'status') return { kind: 'created', status: update.status };
      if (update.kind === 'event' && update.event.type === 'run.rejected') return { kind: 'rejected', event: update.event };
      return null;
    });
  }

  /** Publish the action (its `id` is how the answer is told apart) and wait for the engine's verdict on it. */
  act(runId: string, action: RunAction & { id: string }): Promise<ActionAnswer> {
    return this.ask(topics.run(runId, 'actions'), JSON.stringify(action), `${action.type} on run ${runId}`, (update) => {
      if (update.kind !== 'event' || update.runId !== runId) return null;
      const { event } = update;
      if (event.type === 'action.accepted' && event.actionId === action.id) return { kind: 'accepted', event };
      if (event.type === 'action.rejected' && event.actionId === action.id) return { kind: 'rejected', event };
      return null;
    });
  }

  private ask<A extends { kind: string }>(topic: string, payload: string, what: string, answerIn: (update: CacheUpdate) => A | null): Promise<A | { kind: 'no-answer'; message: string }> {
    return new Promise((resolve, reject) => {
      // Listen before publishing: the answer can come back before publish() resolves.
      const stop = this.cache.follow((update) => {
        const answer = answerIn(update);
        if (answer) finish(() => resolve(answer));
      });
      const timer = setTimeout(() => {
        const online = this.cache.onlineEngines();
        const engines = online.length === 0 ? 'no engine is online' : `online: ${online.join(', ')}`;
        finish(() => resolve({ kind: 'no-answer', message: `no engine answered ${what} within ${this.timeoutMs / 1000} s (${engines})` }));
      }, this.timeoutMs);
      let done = false;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stop();
        settle();
      };
      this.publish(topic, payload).catch((error: unknown) => finish(() => reject(error)));
    });
  }
}
