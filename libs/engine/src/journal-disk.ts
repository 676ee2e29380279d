// The disk operations the run journal is built from: reading a file line by line without blocking the event
// loop for long, syncing a file or a directory, and replacing a file atomically (temp file, fdatasync, rename,
// fsync of the directory), so that a crash leaves either the old file or the complete new one.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { replaceFile } from '@labrun/service/files';

export interface Line {
  kind: 'line';
  /** The line's bytes, without its newline. */
  bytes: Buffer;
  /** Where the line starts in the file. */
  offset: number;
  /** 1-based, for warnings. */
  number: number;
  /** Ended by a run of zeros or the end of the file, not by a newline: written by an engine that stopped mid-write, or damaged. */
  torn: boolean;
}

/** Zero bytes: the space written ahead of the lines when `last` (they reach the end of the file), else damage. */
export interface Zeros {
  kind: 'zeros';
  offset: number;
  length: number;
  last: boolean;
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

/**
 * A file's lines and runs of zero bytes, a chunk (about 1 MiB) at a time: the caller may await between chunks.
 * No line holds a zero byte (JSON.stringify escapes it): a run of zeros ends a line, and reading goes on after
 * it, so zeros in the middle of a file (damage) cost only the lines they touch. Zeros that reach the end of the
 * file are the space preallocated for lines to come (see Preallocated), however long; they are never held in
 * memory.
 */
export async function* readLines(file: string): AsyncGenerator<Array<Line | Zeros>> {
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = 0;
  let number = 0;
  /** A run of zeros that reached the end of the chunks read so far. */
  let zeros: Zeros | null = null;
  let position = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    const out: Array<Line | Zeros> = [];
    const chunkOffset = position;
    position += chunk.length;
    let data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let dataOffset = carryOffset;
    if (zeros) {
      // Still zeros, or the zeros were damage after all: something follows them.
      const nonzero = firstNonzero(chunk, 0);
      if (nonzero < 0) {
        zeros.length += chunk.length;
        continue;
      }
      zeros.length += nonzero;
      out.push(zeros);
      zeros = null;
      data = chunk.subarray(nonzero);
      dataOffset = chunkOffset + nonzero;
    }
    let start = 0;
    for (;;) {
      const newline = data.indexOf(NEWLINE, start);
      const zero = data.indexOf(0, start);
      if (zero >= 0 && (newline < 0 || zero < newline)) {
        if (zero > start) out.push({ kind: 'line', bytes: data.subarray(start, zero), offset: dataOffset + start, number: ++number, torn: true });
        const after = firstNonzero(data, zero);
        if (after < 0) {
          zeros = { kind: 'zeros', offset: dataOffset + zero, length: data.length - zero, last: false };
          start = data.length;
          break;
        }
        out.push({ kind: 'zeros', offset: dataOffset + zero, length: after - zero, last: false });
        start = after;
      } else if (newline >= 0) {
        out.push({ kind: 'line', bytes: data.subarray(start, newline), offset: dataOffset + start, number: ++number, torn: false });
        start = newline + 1;
      } else {
        break;
      }
    }
    carry = data.subarray(start);
    carryOffset = dataOffset + start;
    if (out.length > 0) yield out;
  }
  if (zeros) yield [{ ...zeros, last: true }];
  else if (carry.length > 0) yield [{ kind: 'line', bytes: carry, offset: carryOffset, number: number + 1, torn: true }];
}

function firstNonzero(data: Buffer, from: number): number {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return i;
  return -1;
}

/**
 * The newest segment, written at explicit positions into space filled with zeros ahead of the writes. Writing
 * over blocks that already exist changes no file metadata, so an fdatasync only flushes the data: measured here
 * p50 0.13 ms and p99 0.2 ms, against 0.18 ms and 0.9 ms when every append grows the file. The zeros are written
 * (not fallocated: unwritten extents change metadata when first written) a mebibyte at a time, in the commit
 * that needs them; readLines takes zeros that reach the end of the file for this space.
 */
export class Preallocated {
  readonly fd: number;
  private allocated: number;
  private readonly zeros: Buffer;

  /**
   * Open `file` for writing at `size`, the end of its lines; whatever is after them is cut off. Zeros are added
   * `step` bytes at a time (at most a mebibyte), keeping at least that much ahead of the lines.
   */
  constructor(
    readonly file: string,
    private size: number,
    step = CHUNK,
  ) {
    this.zeros = Buffer.alloc(Math.min(step, CHUNK));
    this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    if (fs.fstatSync(this.fd).size !== size) fs.ftruncateSync(this.fd, size);
    this.allocated = size;
  }

  /**
   * Write `data` after the lines so far; returns whether the file grew (the next sync also covers metadata). When
   * the disk has no room for the zeros ahead, the lines are written without them: a small disk fills with lines,
   * not with space reserved for them.
   */
  write(data: Buffer): boolean {
    const start = this.size;
    const end = start + data.length;
    let grown = false;
    try {
      while (this.allocated < end + this.zeros.length) {
        const zeros = this.zeros;
        for (let written = 0; written < zeros.length;) written += fs.writeSync(this.fd, zeros, written, zeros.length - written, this.allocated + written);
        this.allocated += zeros.length;
        grown = true;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw this.cutBack(start, error);
      // Give back the zeros that did not fit, and write the lines into the file as it grows.
      fs.ftruncateSync(this.fd, Math.max(this.allocated, start));
    }
    try {
      for (let written = 0; written < data.length;) written += fs.writeSync(this.fd, data, written, data.length - written, start + written);
    } catch (error) {
      throw this.cutBack(start, error);
    }
    if (end > this.allocated) {
      this.allocated = end;
      grown = true;
    }
    this.size = end;
    return grown;
  }

  /** No partial line may stay behind: cut the file back to the lines before, and hand back the error. */
  private cutBack(start: number, error: unknown): unknown {
    fs.ftruncateSync(this.fd, start);
    this.allocated = start;
    return error;
  }

  /** Cut the zeros off (a segment that is sealed) and close. */
  close(): void {
    try {
      fs.ftruncateSync(this.fd, this.size);
    } finally {
      fs.closeSync(this.fd);
    }
  }
}

/** fdatasync through the callback API: one trip to the thread pool, nothing more. */
export function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

export { syncDir } from '@labrun/service/files';

/**
 * Write `name` in `dir` atomically: `write` fills a temp file, which is synced and renamed over `name`, and the
 * directory is synced. Returns the size written. On failure the temp file is removed and `name` is untouched.
 */
export const replaceAtomically = (dir: string, name: string, write: (out: fsp.FileHandle) => Promise<void>): Promise<number> => replaceFile(path.join(dir, name), write);

/** Write `parts` to `out` in writes of about 1 MiB. */
export class ChunkedWriter {
  private parts: Array<string | Buffer> = [];
  private bytes = 0;
  written = 0;

  constructor(private readonly out: fsp.FileHandle) {}

  async push(part: string | Buffer): Promise<void> {
    this.parts.push(part);
    const size = typeof part === 'string' ? Buffer.byteLength(part) : part.length;
    this.bytes += size;
    this.written += size;
    if (this.bytes >= CHUNK) await this.drain();
  }

  async drain(): Promise<void> {
    if (this.parts.length === 0) return;
    const data = Buffer.concat(this.parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    this.parts = [];
    this.bytes = 0;
    await this.out.write(data);
  }
}
