import { defineConfig } from 'vitest/config';
import { projectTestConfig } from '../../vitest.shared.js';

// The integration tests start several `labrun` processes in a row; give them room on a slow machine.
export default defineConfig(projectTestConfig({ testTimeout: 30_000 }));
