// What every service's metrics share: the default process metrics under the service's prefix, bounded labels for
// actions' answers, and the metrics port's answers.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '@labrun/contracts';
import { actionAnswerLabels, createMetricsRegistry, createMetricsServer, runsByStatus } from './metrics.js';
import type { Server } from 'node:http';

const base = { runId: 'r-1', seq: 0, at: '2026-11-24T10:00:00.000Z' };

describe('createMetricsRegistry', () => {
  it('holds the default process metrics under the prefix, without the gauges named …_total', async () => {
    const text = await createMetricsRegistry('labrun_test_').metrics();
    expect(text).toMatch(/^labrun_test_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^# TYPE labrun_test_nodejs_heap_size_used_bytes gauge$/m);
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
  });
});

describe('runsByStatus', () => {
  it('counts runs by status, with every status of the contract present', () => {
    expect(runsByStatus([{ status: 'paused' }, { status: 'running' }, { status: 'paused' }])).toEqual({
      idle: 0,
      running: 1,
      pausing: 0,
      paused: 2,
      blocked: 0,
      'awaiting-recovery': 0,
      stopping: 0,
      stopped: 0,
      succeeded: 0,
      failed: 0,
    });
  });
});

describe('actionAnswerLabels', () => {
  it('labels an accepted action by type, a rejected one also by code; other events get none', () => {
    expect(actionAnswerLabels({ ...base, type: 'action.accepted', actionId: 'a', action: 'resume', by: null, message: null, mode: null })).toEqual({ type: 'resume', result: 'accepted' });
    expect(actionAnswerLabels({ ...base, type: 'action.rejected', actionId: 'a', action: 'resume', code: 'not-paused', message: '' })).toEqual({
      type: 'resume',
      result: 'rejected',
      code: 'not-paused',
    });
    expect(actionAnswerLabels({ ...base, type: 'run.rejected', code: 'retained', message: '' } as RunEvent)).toBeNull();
  });

  it('keeps labels to the contract’s lists: an unreadable or unknown type is invalid, an unknown code other', () => {
    const rejected = (action: string | null, code: string): RunEvent => ({ ...base, type: 'action.rejected', actionId: 'a', action, code, message: '' });
    expect(actionAnswerLabels(rejected(null, 'invalid-action'))).toEqual({ type: 'invalid', result: 'rejected', code: 'invalid-action' });
    expect(actionAnswerLabels(rejected('x'.repeat(64), 'a-code-from-a-newer-engine'))).toEqual({ type: 'invalid', result: 'rejected', code: 'other' });
  });
});

describe('createMetricsServer', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('answers GET /metrics in the text format, 404 elsewhere, 405 to other methods', async () => {
    server = createMetricsServer(createMetricsRegistry('labrun_test_'), () => {});
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const scrape = await fetch(`${url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await scrape.text()).toContain('labrun_test_process_cpu_seconds_total');
    expect((await fetch(`${url}/`)).status).toBe(404);
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });
});
