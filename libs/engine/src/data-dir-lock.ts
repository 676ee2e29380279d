// One engine per data directory. Two engines on one LABRUN_DATA_DIR would both append to the same journal and
// both carry out its runs; the second must refuse to start, naming the directory and the engine that holds it.
//
// The lock is a file, `engine.lock`, holding the holder's pid, its start time and host. It appears atomically
// (written to a temp file, then hard-linked into place, which fails if it exists). A lock whose process is gone
// is stale and taken over at once: an engine killed with SIGKILL restarts without waiting (a lock that expires
// by age, as proper-lockfile's does, would hold a restart back for its whole staleness period). The start time
// (from /proc, where there is one) tells a holder that is still running from an unrelated process that got its
// pid later. Taking over is itself done under a mutex (a directory made with mkdir), so two engines starting
// over one stale lock cannot both win. Limit: liveness is checked on this machine; two hosts sharing the
// directory over a network filesystem are not kept apart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'engine.lock';

interface Holder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), or null where it cannot be read. */
  start: number | null;
  host: string;
  since: string;
}

export class DataDirLocked extends Error {
  constructor(
    readonly dir: string,
    readonly holder: Holder,
  ) {
    super(
      `another engine (pid ${holder.pid} on ${holder.host}, since ${holder.since}) is using the data directory ${dir}: ` +
        `stop it first, or give this engine its own LABRUN_DATA_DIR (the lock is ${path.join(dir, LOCK_FILE)})`,
    );
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Give the directory up (on a clean stop). */
  release(): void;
}

/** A takeover that has not finished in this long was left by a process that died in it. */
const ABANDONED_TAKEOVER_MS = 10_000;

/** Take the data directory `dir` (created if missing) for this process, or throw DataDirLocked. */
export function lockDataDir(dir: string): DataDirLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, start: startTime(process.pid), host: os.hostname(), since: new Date().toISOString() };
  const text = `${JSON.stringify(me)}\n`;
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        fs.linkSync(temp, file);
        return { file, release: () => release(file, text) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = readHolder(file);
      if (held && alive(held)) throw new DataDirLocked(dir, held);
      takeOver(file, held);
    }
    throw new Error(`could not lock the data directory ${dir}: its lock ${file} keeps changing hands`);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Remove a stale lock, unless someone else is taking it over right now or it changed since it was read. */
function takeOver(file: string, stale: Holder | null): void {
  const mutex = `${file}.takeover`;
  try {
    fs.mkdirSync(mutex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - (statOrNull(mutex)?.mtimeMs ?? Date.now());
    if (age > ABANDONED_TAKEOVER_MS) fs.rmSync(mutex, { recursive: true, force: true });
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // another engine is at it: look again shortly
    return;
  }
  try {
    const now = readHolder(file);
    if (JSON.stringify(now) === JSON.stringify(stale)) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(mutex, { recursive: true, force: true });
  }
}

function release(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

/** The lock's holder, or null if the file is gone or unreadable (a lock nobody can be holding). */
function readHolder(file: string): Holder | null {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Holder>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return null;
    return { pid: value.pid, start: typeof value.start === 'number' ? value.start : null, host: String(value.host ?? 'an unknown host'), since: String(value.since ?? 'an unknown time') };
  } catch {
    return null;
  }
}

function alive(holder: Holder): boolean {
  // A lock that names this very process was left by an earlier process with the same pid (a container restarted).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = startTime(holder.pid);
  return holder.start === null || start === null || start === holder.start;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function startTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}
