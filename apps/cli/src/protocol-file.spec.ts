// Unit tests of reading protocol files: documents and create requests in, zod's explanation out (exit 3).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@labrun/testkit';
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
    expect((await refusal(where)).message).toBe(
      `labrun: ${where} is not a protocol labrun can run:\n✖ move needs at least one of x, y, z, or a well to go to ("to": "plate1/A1")\n  → at commands[0].params`,
    );
  });

  it('explains a file that is not JSON, or not there', async () => {
    const where = await file('broken.json', '{"schemaVersion": 1,');
    expect((await refusal(where)).message).toMatch(/is not a protocol labrun can run: payload is not valid JSON/);
    expect((await refusal(path.join(dir, 'missing.json'))).message).toBe(`labrun: cannot read ${path.join(dir, 'missing.json')}: there is no such file`);
    expect((await refusal(dir)).message).toBe(`labrun: cannot read ${dir}: it is a directory`);
  });

  const tsProtocol = (body: string) => `import { defineProtocol } from '@labrun/protocol';\nexport default defineProtocol({ name: 'ts' }, async (ctx) => {\n${body}\n});\n`;

  it('records a TypeScript protocol into a document, types and all, without running anything on an engine', async () => {
    const where = await file('paused.ts', tsProtocol("  const wells: number[] = [0, 9];\n  await ctx.home();\n  for (const x of wells) await ctx.move({ x });\n  await ctx.pause('I am paused now');"));
    expect(await readProtocolFile(where)).toEqual({
      protocol: {
        schemaVersion: 1,
        metadata: { name: 'ts' },
        commands: [{ type: 'home' }, { type: 'move', params: { x: 0 } }, { type: 'move', params: { x: 9 } }, { type: 'pause', params: { message: 'I am paused now' } }],
      },
    });
  });

  it('finds @labrun/protocol for a protocol in a folder without it, loaded as CommonJS (.ts, .cts) or as an ES module (.mts)', async () => {
    // os.tmpdir() has no node_modules and no package.json: tsx loads .ts there as CommonJS.
    for (const name of ['anywhere.ts', 'anywhere.cts', 'anywhere.mts']) {
      const where = await file(name, tsProtocol("  await ctx.comment('hello');"));
      expect((await readProtocolFile(where)).protocol.commands).toEqual([{ type: 'comment', params: { message: 'hello' } }]);
    }
  });

  it('reads examples/paused.ts, the example TypeScript protocol', async () => {
    const { protocol } = await readProtocolFile(path.join(repoRoot, 'examples', 'paused.ts'));
    expect(protocol.metadata.name).toBe('Paused on purpose');
    expect(protocol.commands).toContainEqual({ type: 'pause', params: { message: 'I am paused now' } });
  });

  it('refuses a TypeScript protocol that does not type-check, with file, line and column, before running any of it', async () => {
    // In a folder with no @labrun/protocol installed: the CLI's own declarations are used.
    const typo = await file('typo.ts', tsProtocol("  await ctx.home();\n  await ctx.mvoe({ x: 10 });\n  await ctx.setOutput('pump', '50%');"));
    const message = (await refusal(typo)).message;
    expect(message).toMatch(new RegExp(`^labrun: ${typo} has type errors; nothing was run:`));
    expect(message).toMatch(/typo\.ts\(4,13\): error TS2339: Property 'mvoe' does not exist on type 'ProtocolContext'\./);
    expect(message).toMatch(/typo\.ts\(5,31\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'\./);
  });

  it('explains a module that exports no protocol, does not compile, throws, or records an invalid command', async () => {
    const noExport = await file('none.ts', 'export const x = 1;\n');
    expect((await refusal(noExport)).message).toBe(
      `labrun: ${noExport} does not export a protocol: it has no default export. Write export default defineProtocol({ name: "…" }, async (ctx) => { … }), importing defineProtocol from "@labrun/protocol".`,
    );
    // A syntax error is the compiler's to report, line and column, before anything runs (a JavaScript file: the loader's).
    const broken = await file('broken.ts', 'export default {{;\n');
    expect((await refusal(broken)).message).toMatch(new RegExp(`^labrun: ${broken} has type errors; nothing was run:\n.*broken\\.ts\\(1,17\\): error TS1136: Property assignment expected\\.`));
    const brokenJs = await file('broken.mjs', 'export default {{;\n');
    expect((await refusal(brokenJs)).message).toBe(`labrun: cannot load ${brokenJs}: Unexpected token '{'`);
    const throws = await file('throws.ts', tsProtocol("  throw new Error('no plate loaded');"));
    expect((await refusal(throws)).message).toBe(`labrun: ${throws}: protocol "ts" failed while recording its commands: no plate loaded`);
    const invalid = await file('invalid.ts', tsProtocol('  await ctx.delay(0);'));
    expect((await refusal(invalid)).message).toBe(`labrun: ${invalid} is not a protocol labrun can run:\n✖ seconds must be greater than 0\n  → at commands[0].params.seconds`);
  });
});
