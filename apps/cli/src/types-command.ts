// `labrun types [dir]`: let an editor find @labrun/protocol's types for protocol files in a folder anywhere (outside
// this repository, with no node_modules). It writes (or updates) the folder's tsconfig.json so that
// `@labrun/protocol` resolves to this CLI's copy of the declarations — the same ones `labrun run` checks against.
import fs from 'node:fs';
import path from 'node:path';
import { protocolDeclarations } from './protocol-types.js';
import { CliError, EXIT } from './exit-codes.js';

/** The compiler options a protocol folder needs, with @labrun/protocol mapped to this CLI's declarations. */
export function protocolCompilerOptions(): Record<string, unknown> {
  return {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    skipLibCheck: true,
    paths: { '@labrun/protocol': [protocolDeclarations()] },
  };
}

export function typesCommand(args: string[], out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): number {
  if (args.length > 1 || args.some((a) => a.startsWith('-'))) throw new CliError(EXIT.usage, 'labrun: labrun types takes one folder (default: the current one)\nRun labrun --help for usage.');
  const dir = path.resolve(args[0] ?? '.');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(EXIT.usage, `labrun: ${dir} is not a folder`);
  const file = path.join(dir, 'tsconfig.json');
  let config: Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      // A tsconfig with comments is the user's: say what to add rather than rewrite it.
      const options = JSON.stringify({ compilerOptions: protocolCompilerOptions() }, null, 2);
      throw new CliError(EXIT.usage, `labrun: ${file} is not plain JSON (comments?), so it was left alone; add to it:\n${options}`);
    }
  }
  const previous = (config.compilerOptions ?? {}) as Record<string, unknown>;
  const wanted = protocolCompilerOptions();
  const paths = { ...((previous.paths as Record<string, unknown>) ?? {}), ...(wanted.paths as Record<string, unknown>) };
  config.compilerOptions = { ...wanted, ...previous, paths };
  fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  out(`labrun: ${file} maps @labrun/protocol to ${protocolDeclarations()}: an editor now finds the protocol API's types for .ts files in ${dir}`);
  return EXIT.ok;
}
