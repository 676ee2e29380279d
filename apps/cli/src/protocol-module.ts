// Loading a protocol written in TypeScript (or JavaScript) with tsx, and recording the document it describes.
// The file runs here, once, on the machine of whoever starts the run; only the document goes to the engine.
//
// `import { defineProtocol } from '@labrun/protocol'` must work from a protocol file wherever it is, also in
// a folder where @labrun/protocol is not installed: the import then resolves to the CLI's own copy. tsx loads a
// .ts file as an ES module or as CommonJS depending on the nearest package.json, so both ways are covered: a
// module.register() resolve hook for ES modules, and a wrapper of Module._resolveFilename (the hook tsx itself
// uses) for CommonJS.
import Module, { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { buildProtocol, protocolFromModule } from '@labrun/protocol';
import type { ProtocolDocument } from '@labrun/contracts';
import { TYPED_EXTENSIONS, protocolTypeErrors } from './protocol-types.js';

export const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

const AUTHORING_PACKAGE = '@labrun/protocol';

const RESOLVE_HOOK = `
let fallback;
export function initialize(data) { fallback = data.fallback; }
export async function resolve(specifier, context, nextResolve) {
  if (specifier !== ${JSON.stringify(AUTHORING_PACKAGE)}) return nextResolve(specifier, context);
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return { url: fallback, shortCircuit: true };
    throw error;
  }
}`;

let fallbackInstalled = false;

/** Make `@labrun/protocol` resolve to the CLI's own copy from folders that have none. Once per process. */
function installAuthoringFallback(): void {
  if (fallbackInstalled) return;
  fallbackInstalled = true;
  const fallback = import.meta.resolve(AUTHORING_PACKAGE);
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`, { data: { fallback } });
  const cjs = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolveFilename = cjs._resolveFilename;
  cjs._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    try {
      return resolveFilename.call(this, request, ...rest);
    } catch (error) {
      if (request === AUTHORING_PACKAGE && (error as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND') return fileURLToPath(fallback);
      throw error;
    }
  };
}

export class ProtocolModuleError extends Error {}

/** Import the protocol file, find its default export and record its commands into a validated document. */
export async function loadProtocolModule(file: string, options: { typeCheck?: boolean } = {}): Promise<ProtocolDocument> {
  installAuthoringFallback();
  if ((options.typeCheck ?? true) && TYPED_EXTENSIONS.includes(path.extname(file))) {
    // Types first: a protocol that does not type-check is not run, not even to record its commands.
    const errors = await protocolTypeErrors(file);
    if (errors.length > 0) throw new ProtocolModuleError(`${file} has type errors; nothing was run:\n${errors.slice(0, 20).join('\n')}`);
  }
  let namespace: unknown;
  try {
    namespace = await tsImport(pathToFileURL(path.resolve(file)).href, import.meta.url);
  } catch (error) {
    throw new ProtocolModuleError(`cannot load ${file}: ${firstLines((error as Error)?.message ?? String(error))}`);
  }
  let definition;
  try {
    definition = protocolFromModule(namespace, file);
  } catch (error) {
    throw new ProtocolModuleError((error as Error).message);
  }
  try {
    return await buildProtocol(definition);
  } catch (error) {
    // With a cause, the protocol's own code threw; without, what it recorded is not a valid document.
    const { message, cause } = error as Error;
    throw new ProtocolModuleError(cause === undefined ? `${file} is not a protocol labrun can run:\n${message}` : `${file}: ${message}`);
  }
}

/** A loader's message can run to a page (esbuild quotes the code); the first lines say what is wrong. */
const firstLines = (message: string) => message.split('\n').slice(0, 6).join('\n');
