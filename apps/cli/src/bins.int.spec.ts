// Every command the workspace installs (`labrun`, `labrun-engine`, …) works the ways a user calls it: `npx labrun`,
// `npm exec labrun`, and the linked file itself. npm links a bin only if its file exists at install time and then
// makes it executable, so each bin is a committed, executable file that loads the build.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@labrun/testkit';

const workspaces = ['apps/broker', 'apps/cli', 'apps/engine', 'apps/gateway', 'apps/hardware', 'libs/grbl'];
const bins = workspaces.flatMap((dir) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, dir, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  return Object.entries(manifest.bin ?? {}).map(([name, file]) => ({ name, file: path.join(dir, file) }));
});

describe('the installed commands', () => {
  it('are all there: labrun, labrun-broker, labrun-engine, labrun-gateway, labrun-hardware, labrun-grbl-sim', () => {
    expect(bins.map((b) => b.name).sort()).toEqual(['labrun', 'labrun-broker', 'labrun-engine', 'labrun-gateway', 'labrun-grbl-sim', 'labrun-hardware']);
  });

  it.each(bins)('$name is a committed executable file with a node shebang', ({ file }) => {
    const staged = execFileSync('git', ['ls-files', '-s', file], { cwd: repoRoot, encoding: 'utf8' });
    expect(staged, `${file} must be committed as mode 100755`).toMatch(/^100755 /);
    expect(fs.readFileSync(path.join(repoRoot, file), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('runs as `npx labrun` and `npm exec labrun` from the repository', () => {
    for (const args of [
      ['npx', '--offline', 'labrun', 'help'],
      ['npm', 'exec', '--offline', '--', 'labrun', 'help'],
    ]) {
      const result = spawnSync(args[0]!, args.slice(1), { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
      expect(result.stderr, args.join(' ')).not.toMatch(/Permission denied|could not determine executable/);
      expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/^labrun — run lab-automation protocols/);
    }
  });

  it('says how to build when the build is missing, instead of failing obscurely', () => {
    // The repository's layout, with the bin and what it loads, but nothing built.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-bin-'));
    for (const file of ['apps/cli/bin/labrun.js', 'scripts/run-built.mjs']) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(repoRoot, file), path.join(dir, file));
    }
    const result = spawnSync(process.execPath, [path.join(dir, 'apps/cli/bin/labrun.js'), 'help'], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^labrun is not built yet: run `npm run build` \(or `npm start`, which builds first\)/);
  });

  it('install quietly: every dependency with an install script is decided in allowScripts (npm warns about the rest)', () => {
    const result = spawnSync('npm', ['install-scripts', 'ls'], { cwd: repoRoot, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/not yet covered by allowScripts/);
  });
});
