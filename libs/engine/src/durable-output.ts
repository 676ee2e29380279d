// Holds the engine's output back until the journal has the events on disk: events and statuses are delivered
// in the order the engine produced them, one group commit at a time, so no subscriber ever sees a state that a
// crash could take back.
import type { RunEvent } from '@labrun/contracts';
import type { EngineOutput } from './ports.js';

export interface EventLog {
  /** Buffer an event (`json` is JSON.stringify(event)) for the next flush. */
  append(event: RunEvent, json: string): void;
  flush(): Promise<void>;
}

export interface DurableOutput extends EngineOutput {
  /** Resolves once everything produced so far is durable and delivered. */
  drained(): Promise<void>;
}

export function durableOutput(output: EngineOutput, log: EventLog, onError: (error: Error) => void): DurableOutput {
  let queue: Array<() => void> = [];
  let flushing: Promise<void> = Promise.resolve();
  let scheduled = false;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // Everything the engine does in this turn of the event loop goes into one commit.
    setImmediate(() => {
      scheduled = false;
      const batch = queue;
      queue = [];
      flushing = flushing.then(async () => {
        try {
          await log.flush();
        } catch (error) {
          // A disk that refuses writes must not stop the lab: say so loudly, and keep going.
          onError(error as Error);
        }
        for (const deliver of batch) deliver();
      });
    });
  };

  return {
    event(event) {
      // seq 0 answers (a refused create, an action for an unknown run) belong to no run's history.
      // One JSON text for the journal and the message: 200,000 events are serialised once, not twice.
      const json = JSON.stringify(event);
      if (event.seq > 0) log.append(event, json);
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
    async drained() {
      while (scheduled || queue.length > 0) await new Promise((r) => setImmediate(r));
      await flushing;
    },
  };
}
