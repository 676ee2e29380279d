// `labrun types`: a folder anywhere gets a tsconfig.json with which the TypeScript compiler — what an editor runs —
// finds @labrun/protocol's types for the protocol files there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { typesCommand } from './types-command.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** What the compiler says about the folder's project, as an editor's language service would. */
function compile(dir: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(dir, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  const program = ts.createProgram(parsed!.fileNames, parsed!.options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('labrun types', () => {
  it('lets the compiler find @labrun/protocol for a protocol in a folder outside the repository, and keeps what was there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-types-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { noUnusedLocals: true } }));
    fs.writeFileSync(
      path.join(dir, 'plate.ts'),
      "import { defineProtocol } from '@labrun/protocol';\nexport default defineProtocol({ name: 'plate' }, async (ctx) => {\n  await ctx.home();\n  await ctx.setOutput('pump', 0.5);\n});\n",
    );
    const lines: string[] = [];
    expect(typesCommand([dir], (line) => lines.push(line))).toBe(0);
    expect(lines[0]).toContain('maps @labrun/protocol to');
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8'));
    expect(config.compilerOptions).toMatchObject({ noUnusedLocals: true, strict: true, paths: { '@labrun/protocol': [expect.stringMatching(/protocol/)] } });
    expect(compile(dir)).toEqual([]);
    // And a mistake is the compiler's to point out, as an editor would underline it.
    fs.writeFileSync(
      path.join(dir, 'bad.ts'),
      "import { defineProtocol } from '@labrun/protocol';\nexport default defineProtocol({ name: 'bad' }, async (ctx) => {\n  await ctx.mvoe({ x: 1 });\n});\n",
    );
    expect(compile(dir)).toEqual(["Property 'mvoe' does not exist on type 'ProtocolContext'."]);
  });

  it('leaves a tsconfig with comments alone and says what to add', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-types-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ // mine\n}\n');
    expect(() => typesCommand([dir], () => undefined)).toThrow(/is not plain JSON \(comments\?\), so it was left alone; add to it:/);
    expect(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')).toBe('{ // mine\n}\n');
  });
});
