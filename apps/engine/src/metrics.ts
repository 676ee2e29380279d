// The engine's Prometheus metrics (served on METRICS_PORT): how long each journal commit's fdatasync takes, the
// events journaled, the runs by status, the actions answered. Everything on the hot path is a counter increment
// or a histogram observation; the runs are counted only when Prometheus asks.
import type { RunEvent, RunStatus } from '@labrun/contracts';
import type { JournalCommit } from '@labrun/engine';
import { actionAnswerLabels, createMetricsRegistry, runsByStatus } from '@labrun/service/metrics';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** From 50 µs (an fdatasync on a fast SSD) to 2.5 s (a disk in trouble). */
const FSYNC_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class EngineMetrics {
  readonly registry: Registry = createMetricsRegistry('labrun_engine_');
  private readonly fsync = new Histogram({
    name: 'labrun_engine_journal_fsync_seconds',
    help: 'Time each journal group commit took to fdatasync (one sync covers every event written together)',
    buckets: FSYNC_BUCKETS,
    registers: [this.registry],
  });
  private readonly events = new Counter({ name: 'labrun_engine_events_total', help: 'Run events written to the journal', registers: [this.registry] });
  private readonly journalBytes = new Counter({ name: 'labrun_engine_journal_bytes_total', help: 'Bytes written to the journal by group commits', registers: [this.registry] });
  private readonly actions = new Counter({
    name: 'labrun_engine_actions_total',
    help: 'Actions this engine answered, by action type and result (a rejection also by its code)',
    labelNames: ['type', 'result', 'code'],
    registers: [this.registry],
  });
  private readonly journalWritable = new Gauge({
    name: 'labrun_engine_journal_writable',
    help: '1 while the journal takes writes; 0 while the engine refuses creates and actions because it cannot',
    registers: [this.registry],
  });

  /** Lists the engine's runs when a scrape asks for their count by status; none until the engine is there. */
  private runs: () => Iterable<{ status: RunStatus }> = () => [];

  constructor() {
    this.journalWritable.set(1);
    const listRuns = () => this.runs();
    new Gauge({
      name: 'labrun_engine_runs',
      help: 'Runs this engine holds, by status (every status listed, 0 when none)',
      labelNames: ['status'],
      registers: [this.registry],
      collect() {
        for (const [status, count] of Object.entries(runsByStatus(listRuns()))) this.set({ status }, count);
      },
    });
  }

  /** Count the runs `list` gives from now on (the engine, once it is built: the server answers before). */
  countRuns(list: () => Iterable<{ status: RunStatus }>): void {
    this.runs = list;
  }

  /** A group commit is on disk (the journal's onCommit). */
  journalCommitted({ events, bytes, syncSeconds }: JournalCommit): void {
    this.fsync.observe(syncSeconds);
    this.events.inc(events);
    this.journalBytes.inc(bytes);
  }

  /** An event went out (after the journal had it): actions' answers are counted. */
  delivered(event: RunEvent): void {
    const labels = actionAnswerLabels(event);
    if (labels) this.actions.inc({ ...labels });
  }

  setJournalWritable(writable: boolean): void {
    this.journalWritable.set(writable ? 1 : 0);
  }
}
