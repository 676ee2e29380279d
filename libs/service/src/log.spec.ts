import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, flushLogs } from './log.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('createLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes one line per message: time, service, level, message, then key=value fields', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    createLogger('engine', 'info').info('status', { runId: 'r-1', status: 'paused', note: 'two words' });
    await turn();
    expect(out).toHaveBeenCalledTimes(1);
    expect(String(out.mock.calls[0]![0])).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z engine info status runId=r-1 status=paused note="two words"\n$/);
  });

  it('sends warnings and errors to stderr and drops messages below the level', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = createLogger('hw', 'warn');
    log.info('hidden');
    log.debug('hidden');
    log.warn('careful');
    await turn();
    expect(out).not.toHaveBeenCalled();
    expect(String(err.mock.calls[0]![0])).toContain(' hw warn careful');
  });

  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = createLogger('engine', 'info');
    for (let i = 0; i < 100; i++) log.info('status', { i });
    expect(out).not.toHaveBeenCalled();
    await turn();
    expect(out).toHaveBeenCalledTimes(1);
    const lines = String(out.mock.calls[0]![0]).split('\n').slice(0, -1);
    expect(lines.map((l) => l.split(' ').at(-1))).toEqual(Array.from({ length: 100 }, (_, i) => `i=${i}`));
  });

  it('writes what it still holds when the process exits', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    createLogger('engine', 'info').info('last words');
    expect(process.listeners('exit')).toContain(flushLogs);
    flushLogs();
    expect(String(out.mock.calls.at(-1)![0])).toContain(' engine info last words');
  });

  it('gives a child logger whose lines carry its fields first, and its children theirs after', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const run = createLogger('engine', 'info').child({ runId: 'r-42', name: 'Serial dilution' });
    run.info('status', { status: 'paused' });
    run.child({ commandIndex: 3 }).info('command failed', { code: 'not-homed' });
    run.debug('hidden');
    await turn();
    const lines = String(out.mock.calls[0]![0]).split('\n').slice(0, -1);
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'engine info status runId=r-42 name="Serial dilution" status=paused',
      'engine info command failed runId=r-42 name="Serial dilution" commandIndex=3 code=not-homed',
    ]);
  });
});
