// Unit tests of reading protocol files: documents and create requests in, zod's explanation out (exit 3).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from './exit-codes.js';
import { readProtocolFile } from './protocol-file.js';

const protocol = { schemaVersion: 1, metadata: { name: 'p' }, commands: [{ type: 'pause', params: { message: 'Check' } }] };

describe('readProtocolFile', () => {
  let dir: string;
  const file = async (name: string, content: string) => {
    const where = path.join(dir, name);
    await writeFile(where, content);
    return where;
  };
  const refusal = async (where: string): Promise<CliError> => {
    const error = await readProtocolFile(where).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(3);
    return error as CliError;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'labrun-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a protocol document', async () => {
    expect(await readProtocolFile(await file('p.json', JSON.stringify(protocol)))).toEqual({ protocol });
  });

  it('reads a create request with its device', async () => {
    expect(await readProtocolFile(await file('p.create.json', JSON.stringify({ protocol, deviceId: 'sim-2' })))).toEqual({ protocol, deviceId: 'sim-2' });
  });

  it('explains an invalid document with zod’s message, naming the file', async () => {
    const where = await file('bad.json', JSON.stringify({ ...protocol, commands: [{ type: 'move', params: { feed: 100 } }] }));
    expect((await refusal(where)).message).toBe(`labrun: ${where} is not a protocol labrun can run:\n✖ move needs at least one of x, y, z\n  → at commands[0].params`);
  });

  it('explains a file that is not JSON, or not there', async () => {
    const where = await file('broken.json', '{"schemaVersion": 1,');
    expect((await refusal(where)).message).toMatch(/is not a protocol labrun can run: payload is not valid JSON/);
    expect((await refusal(path.join(dir, 'missing.json'))).message).toBe(`labrun: cannot read ${path.join(dir, 'missing.json')}: there is no such file`);
    expect((await refusal(dir)).message).toBe(`labrun: cannot read ${dir}: it is a directory`);
  });
});
