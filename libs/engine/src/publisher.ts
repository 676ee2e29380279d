// When a run's commands document goes out. The status goes out with every step that changed the run; the commands
// document is longer (its cost grows with the protocol), so it is coalesced: at most once per interval while the
// run goes on, at once when it ends, and always after the status that reflects the same change.
import type { Clock, EngineOutput } from './ports.js';
import { isFinished, type RunState } from './state.js';
import { toCommandsDocument } from './commands-document.js';

interface Schedule {
  timer: unknown;
  publishedAt: number;
}

export class Publisher {
  private readonly schedules = new Map<string, Schedule>();

  constructor(
    private readonly output: EngineOutput,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    /** The run's state now, or undefined once it has been forgotten. */
    private readonly current: (runId: string) => RunState | undefined,
  ) {}

  private schedule(runId: string): Schedule {
    let schedule = this.schedules.get(runId);
    if (!schedule) this.schedules.set(runId, (schedule = { timer: null, publishedAt: 0 }));
    return schedule;
  }

  /**
   * Commands started or finished: publish now if the last document is old enough (or the run has ended), else soon.
   * The engine calls it once a step has published its events and status, so the document always follows them.
   */
  commandsChanged(state: RunState): void {
    if (!this.output.commands) return;
    const schedule = this.schedule(state.runId);
    const finished = isFinished(state);
    // A run's last document goes out at once, even if one is already waiting for its turn.
    if (schedule.timer && !finished) return;
    // 100,000 commands: once a second, keeping the share of the engine's time it takes bounded.
    const interval = Math.max(this.intervalMs, state.protocol.commands.length / 100);
    const wait = schedule.publishedAt + interval - this.clock.now();
    if (wait <= 0 || finished) {
      this.commandsNow(state);
      return;
    }
    schedule.timer = this.clock.setTimeout(() => {
      schedule.timer = null;
      const latest = this.current(state.runId);
      if (latest) this.commandsNow(latest);
    }, wait);
  }

  /** Publish the run's commands document now. */
  commandsNow(state: RunState): void {
    if (!this.output.commands) return;
    const schedule = this.schedule(state.runId);
    if (schedule.timer) this.clock.clearTimeout(schedule.timer);
    schedule.timer = null;
    schedule.publishedAt = this.clock.now();
    this.output.commands(toCommandsDocument(state));
  }

  forget(runId: string): void {
    const schedule = this.schedules.get(runId);
    if (schedule?.timer) this.clock.clearTimeout(schedule.timer);
    this.schedules.delete(runId);
  }

  dispose(): void {
    for (const runId of [...this.schedules.keys()]) this.forget(runId);
  }
}
