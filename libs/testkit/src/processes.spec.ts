import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { appEntry, buildRoot, repoRoot, startProcess, stopAll } from './processes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-testkit-'));
const script = (name: string, body: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body);
  return file;
};

afterAll(async () => {
  await stopAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('startProcess', () => {
  it('a wait that times out names the processes that died meanwhile, with their last output', async () => {
    const quitter = startProcess('quitter', script('quit.mjs', "console.log('cannot open the database'); process.exit(3);"), {});
    await quitter.exited();
    const waiter = startProcess('waiter', script('wait.mjs', "console.log('starting'); setInterval(() => {}, 1000);"), {});
    const error = await waiter.waitFor(/ready/, 300).catch((e: Error) => e);
    expect(String(error)).toMatch(/waiter did not print \/ready\/ within 300 ms/);
    expect(String(error)).toMatch(/Meanwhile, quitter exited by itself \(code 3\); its last output:\ncannot open the database/);
    await waiter.stop();
  });
});

describe('appEntry', () => {
  afterEach(() => vi.unstubAllEnvs());

  it("starts this checkout's build unless LABRUN_BUILD_ROOT names another checkout's", () => {
    const other = path.join(dir, 'other-checkout');
    fs.mkdirSync(path.join(other, 'apps', 'engine', 'dist'), { recursive: true });
    fs.writeFileSync(path.join(other, 'apps', 'engine', 'dist', 'main.js'), '');
    vi.stubEnv('LABRUN_BUILD_ROOT', other);
    expect(appEntry('engine')).toBe(path.join(other, 'apps', 'engine', 'dist', 'main.js'));
    vi.stubEnv('LABRUN_BUILD_ROOT', '');
    expect(buildRoot()).toBe(repoRoot);
  });

  it('names the checkout to build when the one LABRUN_BUILD_ROOT names is not built', () => {
    const unbuilt = path.join(dir, 'unbuilt-checkout');
    vi.stubEnv('LABRUN_BUILD_ROOT', unbuilt);
    expect(() => appEntry('broker')).toThrow(`${path.join(unbuilt, 'apps', 'broker', 'dist', 'main.js')} is missing: build first (npx nx run-many -t build in ${unbuilt})`);
  });
});
