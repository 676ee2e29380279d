import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceFile, TEMP_SUFFIX } from './files.js';

describe('replaceFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-files-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replaces the file with the new content, says how many bytes, and leaves no temporary file', async () => {
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, 'old');
    expect(await replaceFile(file, '{"new":true}\n')).toBe(13);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"new":true}\n');
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('gives the file the mode asked for, whatever the umask', async () => {
    const file = path.join(dir, 'secret.json');
    const umask = process.umask(0);
    try {
      await replaceFile(file, 'x', { mode: 0o600 });
    } finally {
      process.umask(umask);
    }
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('leaves the old file as it was, and no temporary file, when the writing fails', async () => {
    const file = path.join(dir, 'segment');
    fs.writeFileSync(file, 'complete');
    const failing = replaceFile(file, async (out) => {
      await out.write('half of a ');
      throw new Error('ENOSPC: no space left on device');
    });
    await expect(failing).rejects.toThrow('ENOSPC');
    expect(fs.readFileSync(file, 'utf8')).toBe('complete');
    expect(fs.readdirSync(dir).filter((name) => name.endsWith(TEMP_SUFFIX))).toEqual([]);
  });
});
