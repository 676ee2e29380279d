// The workspace's module boundaries (eslint.config.mjs, and the tags in each package.json's `nx` field): apps depend
// on libs only, libs never on apps, and shipped code never imports test support. Lints one import as if it were
// written in a file of a project, without writing the file, through the same config `npm run lint` uses.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const RULE = '@nx/enforce-module-boundaries';

// The rule reads nx's cached project graph and silently checks nothing without one: make sure it is there and current.
beforeAll(() => {
  const nxDir = path.dirname(createRequire(import.meta.url).resolve('nx/package.json'));
  const { bin } = JSON.parse(fs.readFileSync(path.join(nxDir, 'package.json'), 'utf8')) as { bin: { nx: string } };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-graph-')), 'graph.json');
  const nx = spawnSync(process.execPath, [path.join(nxDir, bin.nx), 'graph', `--file=${file}`], { cwd: root, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } });
  expect(nx.status, nx.stderr || nx.stdout).toBe(0);
}, 60_000);

const eslint = new ESLint({ cwd: root });

/** The module-boundary errors for `import { x } from '<target>'` in a (not written) file at `file`. */
async function boundaryErrors(file: string, target: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import { x } from '${target}';\nexport const y = x;\n`, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('module boundaries', () => {
  it('refuses an app importing another app', async () => {
    expect(await boundaryErrors('apps/gateway/src/boundary-probe.ts', '@labrun/broker')).toEqual(['Imports of apps are forbidden']);
  });

  it('refuses an app import in a test too: a spec starts another app as a process, by its path', async () => {
    expect(await boundaryErrors('apps/gateway/src/boundary-probe.spec.ts', '@labrun/broker')).toEqual(['Imports of apps are forbidden']);
  });

  it('refuses a lib importing an app', async () => {
    expect(await boundaryErrors('libs/protocol/src/boundary-probe.ts', '@labrun/broker')).toEqual(['Imports of apps are forbidden']);
  });

  it('refuses test support in shipped code', async () => {
    expect(await boundaryErrors('apps/cli/src/boundary-probe.ts', '@labrun/testkit')).toEqual(['A project tagged with "scope:runtime" can only depend on libs tagged with "scope:runtime"']);
  });

  it('lets tests use test support, and apps use libs', async () => {
    expect(await boundaryErrors('apps/cli/src/boundary-probe.spec.ts', '@labrun/testkit')).toEqual([]);
    expect(await boundaryErrors('apps/cli/src/boundary-probe.ts', '@labrun/contracts')).toEqual([]);
    expect(await boundaryErrors('libs/grbl/src/boundary-probe.ts', '@labrun/contracts')).toEqual([]);
  });
});
