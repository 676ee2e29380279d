// Vitest settings every labrun project shares: resolve workspace packages to their TypeScript
// sources (the "@labrun/source" export condition) so tests never need a build of the libs.
import { defaultServerConditions, type UserConfig } from 'vite';

const conditions = ['@labrun/source', ...defaultServerConditions];

export function projectTestConfig(overrides: { include?: string[]; testTimeout?: number } = {}): UserConfig {
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@labrun/source'] } },
    test: {
      include: overrides.include ?? ['src/**/*.spec.ts'],
      environment: 'node',
      testTimeout: overrides.testTimeout ?? 10_000,
      hookTimeout: 30_000,
    },
  } as UserConfig;
}
