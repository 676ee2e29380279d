import { defineConfig } from 'vitest/config';
import { projectTestConfig } from '../../vitest.shared.js';

// Integration tests start real processes and wait on real timers.
export default defineConfig(projectTestConfig({ testTimeout: 30_000 }));
