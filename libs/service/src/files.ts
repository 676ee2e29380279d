// Replacing a file so that a crash, a power cut or a full disk leaves either the old file or the whole new one —
// never half of one, and no temporary file behind: the auth file, the engine's journal snapshots and segments, the
// notify service's state. Node only.
import { randomBytes } from 'node:crypto';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Temporary files end so; whoever owns a directory may remove leftovers of a crash by this suffix. */
export const TEMP_SUFFIX = '.tmp';

/** Make a directory's entries (files created, renamed, removed) durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface ReplaceOptions {
  /** The new file's permissions, whatever the umask says (0o600 for secrets). By default the umask's. */
  mode?: number;
}

/**
 * Replace `file` atomically with `content`, or what `write` writes to it: a temporary file beside it is written,
 * synced (fdatasync), renamed over `file`, and the directory synced. Returns the bytes written. On any failure the
 * temporary file is removed, `file` is as it was, and the error is thrown.
 */
export async function replaceFile(file: string, content: string | Buffer | ((out: FileHandle) => Promise<void>), options: ReplaceOptions = {}): Promise<number> {
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
  const out = await fsp.open(temp, 'wx', options.mode ?? 0o666);
  try {
    if (typeof content === 'function') await content(out);
    else await out.writeFile(content);
    if (options.mode !== undefined) await out.chmod(options.mode);
    await out.datasync();
    const { size } = await out.stat();
    await out.close();
    await fsp.rename(temp, file);
    await syncDir(path.dirname(path.resolve(file)));
    return size;
  } catch (error) {
    await out.close().catch(() => {});
    await fsp.rm(temp, { force: true });
    throw error;
  }
}
