#!/usr/bin/env node
// `npm test`: lint, typecheck and test every project through nx, lint the workspace's own files (scripts/, examples/),
// then print one summary line for all of them (each project's vitest also writes its results to .test-results/<project>.json).
// A lint error or an unformatted file fails the run like a failed test.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nxBin } from './nx-bin.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, '.test-results');
fs.rmSync(results, { recursive: true, force: true });

const nx = spawnSync(process.execPath, [nxBin(root), 'run-many', '-t', 'lint', 'typecheck', 'test', '--outputStyle=static', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NX_TUI: 'false', NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
});

// The files outside every nx project, with the same config (package.json's lint:workspace).
const workspaceLint = spawnSync('npm', ['run', '--silent', 'lint:workspace'], { cwd: root, stdio: 'inherit' });
if (workspaceLint.status !== 0) console.error('linting the files outside the projects failed (see above; npm run lint:workspace runs it alone)');

// Formatting: prettier's check of every file it formats (npx prettier --write . fixes what it reports).
const format = spawnSync('npm', ['run', '--silent', 'format:check'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (format.status !== 0) console.error('some files are not formatted (see above): npx prettier --write . formats them');

let passed = 0;
let failed = 0;
let skipped = 0;
/** What failed, named at the very end, where a CI log cut to its last lines still shows it. */
const failures = [];
const files = fs.existsSync(results) ? fs.readdirSync(results).filter((f) => f.endsWith('.json')) : [];
for (const file of files) {
  const report = JSON.parse(fs.readFileSync(path.join(results, file), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const suite of report.testResults) {
    const where = path.relative(root, suite.name);
    const firstLine = (message) => (message ?? '').split('\n').find((line) => line.trim() !== '') ?? '';
    // A file that failed before any test ran (a beforeAll, an import) has no failed test to name.
    if (suite.status === 'failed' && !suite.assertionResults.some((t) => t.status === 'failed')) failures.push(`${where}: ${firstLine(suite.message)}`);
    for (const test of suite.assertionResults) {
      if (test.status === 'failed') failures.push(`${where} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    }
  }
}
if (failures.length) console.log(`\nfailed:\n${failures.map((f) => `  - ${f.slice(0, 400)}`).join('\n')}`);
console.log(`\nlabrun: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) console.error('no test ran');
process.exit(nx.status !== 0 || workspaceLint.status !== 0 || format.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
