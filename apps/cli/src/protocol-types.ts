// Type-check a TypeScript protocol before it runs: `labrun run plate.ts` reports `ctx.mvoe(...)` or
// `ctx.setOutput('pump', '50%')` as the compiler does, with file, line and column, instead of recording a protocol
// that fails at create or, worse, runs. The file may live anywhere: `@labrun/protocol` resolves to the CLI's own
// copy of its declarations when the file's folder has none, as the loader does for the code (protocol-module.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files whose types are checked: TypeScript, not JavaScript. */
export const TYPED_EXTENSIONS = ['.ts', '.mts', '.cts'];

/** Where this CLI's copy of @labrun/protocol's declarations is: dist/index.d.ts, or the source when the CLI runs from it (tests). */
export function protocolDeclarations(): string {
  return fileURLToPath(import.meta.resolve('@labrun/protocol')).replace(/\.js$/, '.d.ts');
}

/** The compiler's errors for the protocol file (and what it imports), formatted; empty when it type-checks. */
export async function protocolTypeErrors(file: string): Promise<string[]> {
  // Loaded only for a .ts protocol: the compiler is large, and a JSON protocol does not need it.
  const ts = (await import('typescript')).default;
  const declarations = protocolDeclarations();
  const options = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    types: [],
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    paths: { '@labrun/protocol': [declarations] },
  };
  const program = ts.createProgram([path.resolve(file)], options);
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
  return diagnostics.map((d) => ts.formatDiagnostic(d, host).trimEnd());
}
