// The runs as the metrics count them, from the retained statuses the gateway follows: how many are in each status,
// and how long runs wait on someone — paused, blocked or awaiting recovery ("held"; `pausing` is not: the machine
// is still coming to a stop).
//
// Times are the engine's: a run enters a held status at the `updatedAt` of the first status document that shows it
// held (the time of the event that held it), and leaves at the `updatedAt` of the first that shows it moving on or
// finished; going from one held status to another (paused → blocked → paused) is one wait. A run the gateway finds
// already held (at start, from the retained status) counts from the earlier of the document's `updatedAt` and its
// pause's `since`. The time of each wait is added to `heldSeconds` when it ends, so a wait still going on shows
// only in `longestHold`.
import type { RunStatus, RunStatusDocument } from '@labrun/contracts';
import { runsByStatus } from '@labrun/service/metrics';

export const HELD_STATUSES: readonly RunStatus[] = ['paused', 'blocked', 'awaiting-recovery'];
const isHeld = (status: RunStatus) => HELD_STATUSES.includes(status);

interface Tallied {
  status: RunStatus;
  /** When its current wait began (ms since the epoch), or null while it is not held. */
  heldSince: number | null;
}

/** A time of a status document in ms; NaN never gets this far (the contract checks the format). */
const ms = (iso: string) => Date.parse(iso);

export class RunTally {
  private readonly runs = new Map<string, Tallied>();
  private finishedHolds = 0;

  /** A run's status document (new or changed). */
  update(doc: RunStatusDocument): void {
    const before = this.runs.get(doc.runId);
    const held = isHeld(doc.status);
    let heldSince: number | null = null;
    if (held && before?.heldSince != null) heldSince = before.heldSince;
    else if (held && before) heldSince = ms(doc.updatedAt);
    else if (held) heldSince = Math.min(ms(doc.updatedAt), doc.pause?.since ? ms(doc.pause.since) : Infinity);
    if (!held && before?.heldSince != null) this.finishedHolds += Math.max(0, ms(doc.updatedAt) - before.heldSince) / 1000;
    this.runs.set(doc.runId, { status: doc.status, heldSince });
  }

  /** The run's retained status was deleted (the engine forgot a finished run). */
  remove(runId: string): void {
    this.runs.delete(runId);
  }

  /** How many runs are in each status; every status is there, 0 when none. */
  countByStatus(): Record<RunStatus, number> {
    return runsByStatus(this.runs.values());
  }

  /** Run-seconds spent held, over every wait that has ended since the gateway started. */
  get heldSeconds(): number {
    return this.finishedHolds;
  }

  /** How long the longest wait going on now has lasted at `now` (ms since the epoch), in seconds; 0 when no run waits. */
  longestHold(now: number): number {
    let oldest = Infinity;
    for (const { heldSince } of this.runs.values()) if (heldSince !== null && heldSince < oldest) oldest = heldSince;
    return oldest === Infinity ? 0 : Math.max(0, now - oldest) / 1000;
  }
}
