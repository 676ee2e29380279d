// A small real filesystem to fill, for tests of what a full disk does (mount -t tmpfs: needs root).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requirement } from './external.js';

/** Mount a tmpfs of `size` on a new directory, or say why not (root and mount are needed). */
export function mountTmpfs(size: string): string | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (error) {
    fs.rmdirSync(dir);
    requirement(false, `a ${size} tmpfs (mount -t tmpfs: needs root)`, `run as root; mount said: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`);
    return null;
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  fs.rmdirSync(dir);
}

/** Fill the filesystem at `dir` to the last byte with one file, and return its path. */
export function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch {
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}
