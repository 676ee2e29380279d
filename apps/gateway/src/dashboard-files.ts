// The dashboard's files (its page, script, style and icon: built by vite from dashboard/ into the package's public/
// folder, see dashboard/vite.config.ts) and the example protocols it offers to start, read from the examples folder.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CREATE_LIMITS, CreateRun, ProtocolDocument, decodePayload } from '@labrun/contracts';

/** The package's public/ folder, where the dashboard is built: beside src/ and dist/, so the same path works from either. */
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));
/** The repository's examples/ folder, where the gateway runs from a checkout (or a Docker image of one). */
export const DEFAULT_EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/** The dashboard's files by URL path, read once: `/` is index.html. Only these paths are ever served. */
export async function loadDashboard(dir = PUBLIC_DIR): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(`the dashboard is not built (${dir} is missing): build the gateway with \`npx nx build @labrun/gateway\` (npm start does)`);
  }
  for (const name of names) {
    const contentType = TYPES[path.extname(name)];
    if (!contentType) continue;
    const file = { body: await readFile(path.join(dir, name)), contentType };
    files.set(name === 'index.html' ? '/' : `/${name}`, file);
  }
  return files;
}

export interface Example {
  /** The file name without `.json`. */
  id: string;
  name: string;
  description: string | null;
  protocol: ProtocolDocument;
}

/** An example is never expected to be large; a bigger file is left out rather than read into every answer. */
const MAX_EXAMPLE_BYTES = 1024 * 1024;

/**
 * The protocol documents in `dir` (`*.json`; a create request's protocol counts too, but `*.create.json`
 * files are left out as they repeat a protocol beside them). Files that are not protocols are skipped.
 */
export async function readExamples(dir: string): Promise<Example[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const examples: Example[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || name.endsWith('.create.json')) continue;
    const file = path.join(dir, name);
    try {
      if ((await stat(file)).size > MAX_EXAMPLE_BYTES) continue;
      const json = decodePayload(ProtocolDocument.or(CreateRun), await readFile(file), CREATE_LIMITS);
      if (!json.ok) continue;
      const protocol = 'protocol' in json.value ? json.value.protocol : json.value;
      examples.push({ id: name.slice(0, -'.json'.length), name: protocol.metadata.name, description: protocol.metadata.description ?? null, protocol });
    } catch {
      // unreadable: not an example
    }
  }
  return examples;
}
