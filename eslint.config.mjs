// The one ESLint configuration for the whole tree (flat config). Each nx project's inferred `lint` target runs
// `eslint .` in its folder and finds this file; `npm run lint` also lints the workspace's own scripts.
// Formatting is prettier's job (`npm run format:check`), so nothing here is about layout.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Module boundaries. Tags live in each package.json's `nx.tags`:
//   type:app   apps/*       thin shells: wire libs to MQTT, HTTP, serial, disk
//   type:lib   libs/*       all the logic
//   type:bench bench/       benchmarks
//   scope:runtime           code that ships
//   scope:test              code that only tests and benchmarks use (libs/testkit, bench)
// Apps and libs depend on libs only (an import of an app is always an error, in tests too: a spec that needs an app
// starts it as a process by its path), and shipped code never imports test code outside its tests.
const boundaries = (testFiles) => ({
  // What every project shares from the workspace root, by relative path on purpose: vitest's shared settings
  // (vitest.shared.ts, from each vitest.config.ts) and the launcher of the bins (scripts/run-built.mjs).
  allow: ['../../vitest.shared.js', '../vitest.shared.js', '../../../scripts/run-built.mjs'],
  depConstraints: [
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
    { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'], notDependOnLibsWithTags: ['type:app'] },
    { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib'] },
    { sourceTag: 'scope:runtime', onlyDependOnLibsWithTags: testFiles ? ['scope:runtime', 'scope:test'] : ['scope:runtime'] },
    { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:runtime', 'scope:test'] },
  ],
});

const testFiles = ['**/*.spec.ts', '**/*.spec-helpers.ts', '**/vitest.config.ts'];

export default defineConfig(
  {
    // apps/gateway/public/ is the dashboard as vite built it from apps/gateway/dashboard/.
    ignores: ['**/dist/', '**/out-tsc/', '**/coverage/', '**/.nx/', '**/.labrun/', '**/.test-results/', '**/*.timestamp*', 'apps/gateway/public/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
      // Matching control characters is the point in this codebase: GRBL's real-time bytes (0x18, 0x85...), the refusal
      // of control characters in ids and journal lines, stripping terminal escapes in CLI tests.
      'no-control-regex': 'off',
      // `const { MQTT_URL: _, ...withoutUrl } = env` is how the code drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `let x; const read = () => x?.y; x = create(read);`: a callback may run before the assignment, and a const
      // would throw there instead of reading undefined.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(true)],
    },
  },
  {
    // Tests read what the system published (parsed JSON) and poke at it: `any` there is deliberate. Shipped code
    // keeps the rule: it parses everything through the zod schemas of @labrun/contracts.
    files: [...testFiles, 'libs/testkit/**/*.ts', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The dashboard runs in the browser (bundled by vite from apps/gateway/dashboard/src).
    files: ['apps/gateway/dashboard/src/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
);
