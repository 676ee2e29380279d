import { defineConfig } from 'vitest/config';
import { projectTestConfig } from '../vitest.shared.js';

// The smoke test runs the whole harness (brokers, engines, the GRBL simulator) on a tiny workload.
export default defineConfig(projectTestConfig({ include: ['*.spec.ts'], testTimeout: 180_000 }));
