import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProcess, stopAll } from './processes.js';

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
