import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './log.js';

describe('createLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes one line per message: time, service, level, message, then key=value fields', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    createLogger('engine', 'info').info('status', { runId: 'r-1', status: 'paused', note: 'two words' });
    expect(out).toHaveBeenCalledTimes(1);
    expect(String(out.mock.calls[0]![0])).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z engine info status runId=r-1 status=paused note="two words"\n$/);
  });

  it('sends warnings and errors to stderr and drops messages below the level', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = createLogger('hw', 'warn');
    log.info('hidden');
    log.debug('hidden');
    log.warn('careful');
    expect(out).not.toHaveBeenCalled();
    expect(String(err.mock.calls[0]![0])).toContain(' hw warn careful');
  });
});
