import { defineConfig } from 'vitest/config';
import { projectTestConfig } from '../../vitest.shared.js';

// The dashboard's pure modules (dashboard/src) are tested here too, in node.
export default defineConfig(projectTestConfig({ include: ['src/**/*.spec.ts', 'dashboard/src/**/*.spec.ts'] }));
