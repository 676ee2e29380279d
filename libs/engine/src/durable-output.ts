// Holds the engine's output back until the journal has the events on disk: events and statuses are delivered
// in the order the engine produced them, one group commit at a time, so no subscriber ever sees a state that a
// crash could take back.
//
// When the journal cannot write (a full disk, a failing device), nothing more is delivered: what waits stays
// waiting, in order, and the commit is tried again every `retryMs` until it goes through. Then everything held is
// delivered and the engine is told it may go on. Meanwhile the engine refuses what would change a run (see
// Engine.setJournalWritable), so the backlog stays small, and answers that belong to no run's history (seq 0:
// those refusals) go out at once.
import type { RunEvent } from '@labrun/contracts';
import type { EngineOutput } from './ports.js';

export interface EventLog {
  /** Buffer an event (`json` is JSON.stringify(event)) for the next flush. */
  append(event: RunEvent, json: string): void;
  /** Write what was appended; a flush that fails keeps its lines for the next one. */
  flush(): Promise<void>;
}

export interface DurableOutput extends EngineOutput {
  /** Resolves once everything produced so far is durable and delivered (or held because the journal cannot write). */
  drained(): Promise<void>;
  /** Whether the journal took the last commit (false from a failed commit until a retry goes through). */
  readonly writable: boolean;
  /** Stop retrying (the service is stopping). */
  dispose(): void;
}

export interface DurableOutputOptions {
  /** The journal refused a commit: from now on nothing is delivered until it takes one again. */
  onUnwritable(error: Error): void;
  /** A retry went through: everything held was delivered. */
  onWritable(): void;
  /** How long to wait between retries of a refused commit (default 1 s). */
  retryMs?: number;
}

export function durableOutput(output: EngineOutput, log: EventLog, options: DurableOutputOptions): DurableOutput {
  const retryMs = options.retryMs ?? 1000;
  let queue: Array<() => void> = [];
  /** Deliveries whose events the journal refused, in order: they go out after the retry that writes them. */
  let held: Array<() => void> = [];
  let writable = true;
  let retryTimer: NodeJS.Timeout | null = null;
  let disposed = false;
  let flushing: Promise<void> = Promise.resolve();
  let scheduled = false;

  const deliver = (batch: Array<() => void>) => {
    for (const send of batch) send();
  };

  const commit = async (batch: Array<() => void>) => {
    if (!writable) {
      held.push(...batch); // the retry writes them
      return;
    }
    try {
      await log.flush();
    } catch (error) {
      writable = false;
      held = batch;
      options.onUnwritable(error as Error);
      retryLater();
      return;
    }
    deliver(batch);
  };

  const retryLater = () => {
    if (disposed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      flushing = flushing.then(retry);
    }, retryMs);
    retryTimer.unref?.();
  };

  const retry = async () => {
    if (writable || disposed) return;
    try {
      await log.flush();
    } catch {
      retryLater();
      return;
    }
    writable = true;
    const batch = held;
    held = [];
    deliver(batch);
    options.onWritable();
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // Everything the engine does in this turn of the event loop goes into one commit.
    setImmediate(() => {
      scheduled = false;
      const batch = queue;
      queue = [];
      flushing = flushing.then(() => commit(batch));
    });
  };

  return {
    get writable() {
      return writable;
    },
    event(event) {
      // One JSON text for the journal and the message: 200,000 events are serialised once, not twice.
      const json = JSON.stringify(event);
      // seq 0 answers (a refused create, an action for an unknown run) belong to no run's history. While the
      // journal cannot write they go out at once: they are the refusals that say so.
      if (event.seq === 0 && !writable) return output.event(event, json);
      if (event.seq > 0) log.append(event, json);
      queue.push(() => output.event(event, json));
      schedule();
    },
    answerAgain(event) {
      // Already in the journal: it is published again, never written again (a second record with an old seq
      // would be a history that goes backwards).
      const json = JSON.stringify(event);
      queue.push(() => output.event(event, json));
      schedule();
    },
    status(status) {
      queue.push(() => output.status(status));
      schedule();
    },
    commands(commands) {
      queue.push(() => output.commands?.(commands));
      schedule();
    },
    message(topic, payload, retain) {
      // A protocol's publish goes out once the start of its command is on disk, like everything that reflects it.
      queue.push(() => output.message?.(topic, payload, retain));
      schedule();
    },
    subscribe(topic) {
      output.subscribe?.(topic);
    },
    unsubscribe(topic) {
      output.unsubscribe?.(topic);
    },
    async drained() {
      while (scheduled || queue.length > 0) await new Promise((r) => setImmediate(r));
      await flushing;
    },
    dispose() {
      disposed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
    },
  };
}
