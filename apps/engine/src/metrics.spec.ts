// The engine's metrics: what each says after journal commits, answered actions and runs in each status, and that
// the text passes `promtool check metrics`.
import { describe, expect, it } from 'vitest';
import type { RunEvent, RunStatus } from '@labrun/contracts';
import { metricSample, promtoolAvailable, promtoolCheck } from '@labrun/testkit';
import { EngineMetrics } from './metrics.js';

const base = { runId: 'r-1', seq: 2, at: '2026-11-24T10:00:00.000Z' };
const resumed: RunEvent = { ...base, type: 'action.accepted', actionId: 'a-1', action: 'resume', by: null, message: null, mode: null };
const refused: RunEvent = { ...base, seq: 0, type: 'action.rejected', actionId: 'a-2', action: 'resume', code: 'not-paused', message: 'no' };
const started: RunEvent = { ...base, type: 'command.started', index: 0, commandType: 'home' };

describe('EngineMetrics', () => {
  it('observes each journal commit: its fdatasync time, events and bytes', async () => {
    const metrics = new EngineMetrics();
    metrics.journalCommitted({ events: 3, bytes: 600, syncSeconds: 0.0004 });
    metrics.journalCommitted({ events: 1, bytes: 200, syncSeconds: 0.02 });
    const text = await metrics.registry.metrics();
    expect(metricSample(text, 'labrun_engine_journal_fsync_seconds_count')).toBe(2);
    expect(metricSample(text, 'labrun_engine_journal_fsync_seconds_bucket{le="0.0005"}')).toBe(1);
    expect(metricSample(text, 'labrun_engine_journal_fsync_seconds_bucket{le="0.025"}')).toBe(2);
    expect(metricSample(text, 'labrun_engine_events_total')).toBe(4);
    expect(metricSample(text, 'labrun_engine_journal_bytes_total')).toBe(800);
  });

  it('counts the actions it answered by type and result, and no other event', async () => {
    const metrics = new EngineMetrics();
    for (const event of [resumed, refused, refused, started]) metrics.delivered(event);
    const text = await metrics.registry.metrics();
    expect(metricSample(text, 'labrun_engine_actions_total{type="resume",result="accepted"}')).toBe(1);
    expect(metricSample(text, 'labrun_engine_actions_total{type="resume",result="rejected",code="not-paused"}')).toBe(2);
    expect(text.match(/^labrun_engine_actions_total\{/gm)).toHaveLength(2);
  });

  it('counts the runs in each status when asked, every status present; none before the engine is there', async () => {
    const metrics = new EngineMetrics();
    expect(metricSample(await metrics.registry.metrics(), 'labrun_engine_runs{status="paused"}')).toBe(0);
    const runs: { status: RunStatus }[] = [{ status: 'paused' }, { status: 'paused' }, { status: 'running' }];
    metrics.countRuns(() => runs);
    const text = await metrics.registry.metrics();
    expect(metricSample(text, 'labrun_engine_runs{status="paused"}')).toBe(2);
    expect(metricSample(text, 'labrun_engine_runs{status="running"}')).toBe(1);
    expect(text.match(/^labrun_engine_runs\{/gm)).toHaveLength(10);
  });

  it('says whether the journal takes writes', async () => {
    const metrics = new EngineMetrics();
    expect(metricSample(await metrics.registry.metrics(), 'labrun_engine_journal_writable')).toBe(1);
    metrics.setJournalWritable(false);
    expect(metricSample(await metrics.registry.metrics(), 'labrun_engine_journal_writable')).toBe(0);
  });

  it('names the process metrics after the engine, and passes promtool check metrics with no problem at all', async (ctx) => {
    const metrics = new EngineMetrics();
    metrics.journalCommitted({ events: 1, bytes: 100, syncSeconds: 0.001 });
    metrics.delivered(refused);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^labrun_engine_process_resident_memory_bytes /m);
    if (!promtoolAvailable()) return ctx.skip();
    expect(await promtoolCheck(text)).toEqual({ code: 0, problems: [] });
  });
});
