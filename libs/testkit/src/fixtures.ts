// Contract documents for tests: a valid run status document, to be adjusted per test.
import type { RunStatusDocument } from '@labrun/contracts';

export const statusDocument = (runId: string, overrides: Partial<RunStatusDocument> = {}): RunStatusDocument => ({
  runId,
  name: 'Serial dilution',
  deviceId: 'sim-1',
  status: 'idle',
  pause: null,
  interlock: null,
  delay: null,
  current: null,
  progress: { completed: 0, total: 3 },
  allowedActions: ['play', 'stop'],
  error: null,
  recovery: null,
  createdAt: '2026-11-24T10:00:00.000Z',
  startedAt: null,
  completedAt: null,
  seq: 1,
  updatedAt: '2026-11-24T10:00:00.000Z',
  ...overrides,
});
