// Prints a run's status as it changes: newer documents only (by `seq`), and only when they read differently,
// so a status republished after a reconnect does not repeat a line.
import type { RunStatusDocument } from '@labrun/contracts';

export class StatusPrinter {
  private readonly lastSeq = new Map<string, number>();
  private readonly lastText = new Map<string, string>();

  constructor(
    private readonly write: (text: string) => void,
    private readonly render: (status: RunStatusDocument) => string[],
  ) {}

  /** Print `status` if it is news; returns false for a document older than one already shown. */
  show(status: RunStatusDocument): boolean {
    const seq = this.lastSeq.get(status.runId);
    if (seq !== undefined && status.seq < seq) return false;
    this.lastSeq.set(status.runId, status.seq);
    const text = this.render(status).join('\n');
    if (this.lastText.get(status.runId) !== text) this.write(`${text}\n`);
    this.lastText.set(status.runId, text);
    return true;
  }
}
