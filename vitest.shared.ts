// Vitest settings every labrun project shares: resolve workspace packages to their TypeScript
// sources (the "@labrun/source" export condition) so tests never need a build of the libs.
import path from 'node:path';
import { defaultServerConditions, type UserConfig } from 'vite';

const conditions = ['@labrun/source', ...defaultServerConditions];

// Each project's results also go to .test-results/, where `npm test` (scripts/test.mjs) sums them up.
const workspaceRoot = path.dirname(new URL(import.meta.url).pathname);
const resultsFile = () => path.join(workspaceRoot, '.test-results', `${path.relative(workspaceRoot, process.cwd()).replaceAll(path.sep, '-') || 'root'}.json`);

export function projectTestConfig(overrides: { include?: string[]; testTimeout?: number } = {}): UserConfig {
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@labrun/source'] } },
    test: {
      include: overrides.include ?? ['src/**/*.spec.ts'],
      environment: 'node',
      reporters: ['default', ['json', { outputFile: resultsFile() }]],
      // Generous: integration tests start real processes, and CI machines run two suites at a time on two cores,
      // 2-3x slower than a developer's. A timeout is for a hang; what a test waits for has its own deadline.
      testTimeout: overrides.testTimeout ?? 30_000,
      hookTimeout: 30_000,
    },
  } as UserConfig;
}
