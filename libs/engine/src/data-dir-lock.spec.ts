// The data directory lock, against real processes: a live holder is refused by name, a dead one (killed, or
// whose pid now belongs to a later process) is taken over at once.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLocked, LOCK_FILE, lockDataDir } from './data-dir-lock.js';

let dir: string;
let child: ChildProcess | null = null;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-lock-'));
});
afterEach(() => {
  child?.kill('SIGKILL');
  child = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Another live process, and its start time as the lock records it. */
async function otherProcess(): Promise<{ pid: number; start: number }> {
  child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child!.once('spawn', resolve));
  const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  return { pid: child.pid!, start: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) };
}
const writeLock = (holder: object) => fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(holder));
const hasProc = fs.existsSync('/proc/self/stat');

describe('lockDataDir', () => {
  it('takes a free directory and gives it back on release', () => {
    const lock = lockDataDir(path.join(dir, 'data'));
    expect(JSON.parse(fs.readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname() });
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'data'))).toEqual([]); // no temp file left either
  });

  it.runIf(hasProc)('refuses while another live process holds it, naming the directory and its pid', async () => {
    const other = await otherProcess();
    writeLock({ ...other, host: 'bench-1', since: '2026-12-03T10:00:00.000Z' });
    const error = (() => {
      try {
        lockDataDir(dir);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DataDirLocked);
    expect((error as Error).message).toBe(
      `another engine (pid ${other.pid} on bench-1, since 2026-12-03T10:00:00.000Z) is using the data directory ${dir}: stop it first, or give this engine its own LABRUN_DATA_DIR (the lock is ${path.join(dir, LOCK_FILE)})`,
    );
  });

  it.runIf(hasProc)('takes over at once from a holder that was killed', async () => {
    const other = await otherProcess();
    writeLock({ ...other, host: os.hostname(), since: 'then' });
    child!.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const lock = lockDataDir(dir);
    expect(JSON.parse(fs.readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it.runIf(hasProc)('takes over from a lock whose pid now belongs to a process started later', async () => {
    const other = await otherProcess();
    writeLock({ pid: other.pid, start: other.start - 1, host: os.hostname(), since: 'then' });
    expect(() => lockDataDir(dir).release()).not.toThrow();
  });

  it('takes over from a lock naming its own pid (a container restarted) and from an unreadable one', () => {
    writeLock({ pid: process.pid, start: 1, host: 'old', since: 'then' });
    lockDataDir(dir).release();
    fs.writeFileSync(path.join(dir, LOCK_FILE), '');
    lockDataDir(dir).release();
  });
});
