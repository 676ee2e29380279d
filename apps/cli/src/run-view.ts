// How `labrun run` shows a run as it goes. On a terminal: a live line (progress bar, status, current command,
// timers) redrawn in place, with what happened printed above it — each command as it completes, pauses and
// every reason for them, a failed command and what recovering from it takes, actions taken. Otherwise (a pipe, a
// log file, CI): one plain line per change.
import type { Command, RunStatusDocument } from '@labrun/contracts';
import { describeTerse, formatOtherReasons, formatPause, formatRecovery, formatStatus, isBetweenCommands } from './format.js';
import { clock, formatLiveLine } from './live-line.js';
import { StatusPrinter } from './status-printer.js';

export interface RunView {
  /** Show a status; false when it is older than one already shown (or says nothing new enough to show). */
  show(status: RunStatusDocument): boolean;
  /** A line about the run that stays: an accepted action, how to resume. */
  note(line: string): void;
  /** A problem, on stderr. */
  warn(line: string): void;
  /** Stop redrawing; the last status stays on screen. */
  close(): void;
}

export class PlainView implements RunView {
  private readonly printer: StatusPrinter;

  constructor(
    commands: readonly Command[],
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {
    this.printer = new StatusPrinter(
      (text) => this.out.write(text),
      (s) => formatStatus(s, commands),
    );
  }

  show(status: RunStatusDocument): boolean {
    return !isBetweenCommands(status) && this.printer.show(status);
  }

  note(line: string): void {
    this.out.write(`${line}\n`);
  }

  warn(line: string): void {
    this.err.write(`${line}\n`);
  }

  close(): void {}
}

const CLEAR_LINE = '\r\x1b[2K';

export class TerminalView implements RunView {
  private status: RunStatusDocument | null = null;
  private completedShown = 0;
  private pauseShown: string | null = null;
  /** The failure (command and attempt) awaiting recovery, and the lines about it printed so far. */
  private failureShown: string | null = null;
  private recoveryShown = new Set<string>();
  private frame = 0;
  private live = '';
  private readonly ticker: NodeJS.Timeout;
  private readonly paint: (code: string, text: string) => string;

  constructor(
    private readonly commands: readonly Command[],
    private readonly out: NodeJS.WriteStream = process.stdout,
    color = !process.env.NO_COLOR,
  ) {
    this.paint = color ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
    // The spinner, the pause timer and the delay countdown move without any new status.
    this.ticker = setInterval(() => {
      this.frame++;
      this.redraw();
    }, 250);
  }

  show(status: RunStatusDocument): boolean {
    if (this.status && status.seq < this.status.seq) return false;
    const first = this.status === null;
    this.status = status;
    if (first) this.completedShown = status.progress.completed;
    // Commands run in order: every one below `completed` that has not been printed yet is done.
    for (; this.completedShown < status.progress.completed; this.completedShown++) {
      const command = this.commands[this.completedShown];
      this.print(`  ${this.paint('32', '✓')} #${this.completedShown + 1} ${command ? describeTerse(command) : ''}`);
    }
    this.showRecovery(status);
    const pause = formatPause(status);
    const others = formatOtherReasons(status);
    const pauseKey = pause || others.length > 0 ? `${status.current?.index}|${status.status}|${pause}|${others.join('|')}` : null;
    if (pauseKey && pauseKey !== this.pauseShown) {
      if (pause) this.print(`  ${this.paint('33;1', '❚❚')} ${this.paint('1', pause)}`);
      for (const other of others) this.print(`     ${other}`);
    }
    this.pauseShown = pauseKey;
    if (status.status === 'failed' && status.error) this.print(`  ${this.paint('31', '✗')} ${status.error.commandIndex === null ? '' : `#${status.error.commandIndex + 1} `}${status.error.message}`);
    this.redraw();
    return true;
  }

  note(line: string): void {
    this.print(line);
  }

  warn(line: string): void {
    this.print(this.paint('31', line));
  }

  close(): void {
    clearInterval(this.ticker);
    if (!this.status) return;
    this.out.write(CLEAR_LINE);
    const { status } = this;
    const took = status.startedAt && status.completedAt ? ` in ${clock((Date.parse(status.completedAt) - Date.parse(status.startedAt)) / 1000)}` : '';
    const outcome = `${status.runId} ${status.status}  ${status.progress.completed}/${status.progress.total}`;
    if (status.status === 'succeeded') this.out.write(`${this.paint('32;1', '✓')} ${outcome}${took}\n`);
    else if (status.status === 'failed') this.out.write(`${this.paint('31;1', '✗')} ${outcome}${status.error ? `: ${status.error.message}` : ''}\n`);
    else if (status.status === 'stopped') this.out.write(`${this.paint('1', '■')} ${outcome}\n`);
    else this.out.write(`${this.live}\n`);
  }

  /**
   * A failed command awaiting recovery: what failed in the controller's words, then each new fact about it as it
   * comes (the position lost, a home in progress, its outcome), so the screen keeps the history of the recovery.
   */
  private showRecovery(status: RunStatusDocument): void {
    const [failed, ...details] = formatRecovery(status, this.commands);
    if (!failed) return;
    const failure = `${status.error?.commandIndex}|${status.recovery?.attempt}`;
    if (failure !== this.failureShown) {
      this.failureShown = failure;
      this.recoveryShown = new Set();
      this.print(`  ${this.paint('31;1', '✗')} ${this.paint('1', failed)}`);
    }
    for (const line of details.filter((l) => !this.recoveryShown.has(l))) {
      this.recoveryShown.add(line);
      this.print(`    ${line}`);
    }
  }

  /** A line that stays, above the live line. */
  private print(line: string): void {
    this.out.write(`${CLEAR_LINE}${line}\n`);
    this.live = '';
    this.redraw();
  }

  private redraw(): void {
    if (!this.status) return;
    // A pseudo-terminal may report 0 columns: assume the classic 80.
    const line = formatLiveLine(this.status, this.commands, Date.now(), this.frame, this.out.columns || 80);
    if (line === this.live) return;
    this.live = line;
    this.out.write(`${CLEAR_LINE}${line}`);
  }
}
