// The API documents and their docs pages: `GET /openapi.json` (the HTTP API, openapi.ts), `GET /asyncapi.json`
// (the MQTT contract, from @labrun/contracts), and `/docs`, `/docs/http` (Swagger UI) and `/docs/mqtt`
// (AsyncAPI's React component, its standalone bundle). The renderers' files come from the gateway's own npm
// packages and are served by the gateway, so the docs work without network; a page's CSP lets it reach nothing
// but the gateway. All of it is public, as the dashboard's files are: it describes the API and holds no run data.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { asyncApiDocument } from '@labrun/contracts';
import type { StaticFile } from './dashboard-files.js';
import { notFound } from './http-error.js';
import type { Answer, ApiRequest } from './http-api.js';
import { openApiDocument } from './openapi.js';

const require = createRequire(import.meta.url);
const version = (pkg: string): string => (require(pkg) as { version: string }).version;

let documents: { openapi: unknown; asyncapi: unknown } | undefined;
/** Both documents, made once: they depend on nothing but the schemas. */
function apiDocuments() {
  documents ??= { openapi: openApiDocument(version('../package.json')), asyncapi: asyncApiDocument(version('@labrun/contracts/package.json')) };
  return documents;
}

export const getOpenApi = (): Answer => ({ status: 200, body: apiDocuments().openapi });
export const getAsyncApi = (): Answer => ({ status: 200, body: apiDocuments().asyncapi });

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

/**
 * The pages' content security policy: scripts, styles, fonts and fetches from the gateway only (the renderers set
 * inline styles, so those are allowed). Even a renderer that tried to load something from elsewhere could not.
 */
const docsCsp = (script: string) =>
  `default-src 'self'; script-src ${script}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; ` +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The AsyncAPI component parses the document in the page with ajv, which compiles its validators with `new Function`. */
const CSP: Record<string, string> = { '/docs': docsCsp("'self'"), '/docs/http': docsCsp("'self'"), '/docs/mqtt': docsCsp("'self' 'unsafe-eval'") };

/** The renderers' files: a fixed list of files of pinned packages, resolved where node finds them, so no URL reaches any other file. */
const PACKAGE_ASSETS: Record<string, { module: string; contentType: string }> = {
  'swagger-ui-bundle.js': { module: 'swagger-ui-dist/swagger-ui-bundle.js', contentType: JS },
  'swagger-ui.css': { module: 'swagger-ui-dist/swagger-ui.css', contentType: CSS },
  'asyncapi-standalone.js': { module: '@asyncapi/react-component/browser/standalone/index.js', contentType: JS },
  'asyncapi.min.css': { module: '@asyncapi/react-component/styles/default.min.css', contentType: CSS },
};

/** The gateway's own files for the pages: the scripts that start each renderer (no inline script: the CSP forbids it) and a little style. */
const OWN_ASSETS: Record<string, StaticFile> = {
  'http.js': {
    contentType: JS,
    body: Buffer.from(
      `// Swagger UI on the gateway's OpenAPI document; validatorUrl null: no badge fetched from validator.swagger.io.
globalThis.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, tryItOutEnabled: false });
`,
    ),
  },
  'mqtt.js': {
    contentType: JS,
    body: Buffer.from(
      `// AsyncAPI's React component (standalone bundle) on the gateway's AsyncAPI document.
AsyncApiStandalone.render(
  { schema: { url: '/asyncapi.json', requestOptions: { credentials: 'same-origin' } }, config: { show: { sidebar: true } } },
  document.getElementById('asyncapi'),
);
`,
    ),
  },
  'docs.css': {
    contentType: CSS,
    body: Buffer.from(
      `body { margin: 0; }
.docs-nav { font: 14px/1.4 system-ui, sans-serif; padding: 8px 16px; background: #1f2937; color: #e5e7eb; display: flex; gap: 16px; align-items: center; }
.docs-nav a { color: #93c5fd; }
.docs-nav strong { margin-right: auto; }
.docs-landing { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #111827; }
.docs-landing li { margin: 0.5rem 0; }
`,
    ),
  },
};

const nav = (here: string) =>
  `<nav class="docs-nav"><strong>labrun API docs</strong>${[
    ['/docs/http', 'HTTP API'],
    ['/docs/mqtt', 'MQTT contract'],
    ['/', 'Dashboard'],
  ]
    .map(([href, text]) => (href === here ? `<span aria-current="page">${text}</span>` : `<a href="${href}">${text}</a>`))
    .join('')}</nav>`;

const page = (title: string, head: string, body: string) =>
  Buffer.from(
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/favicon.svg">
${head}<link rel="stylesheet" href="/docs/assets/docs.css">
</head>
<body>
${body}
</body>
</html>
`,
  );

const PAGES: Record<string, Buffer> = {
  '/docs': page(
    'labrun API docs',
    '',
    `<main class="docs-landing">
<h1>labrun API docs</h1>
<ul>
<li><a href="/docs/http">HTTP API</a>: the gateway's endpoints (<a href="/openapi.json">openapi.json</a>, OpenAPI 3.1)</li>
<li><a href="/docs/mqtt">MQTT contract</a>: every topic and payload (<a href="/asyncapi.json">asyncapi.json</a>, AsyncAPI 3.0)</li>
</ul>
<p><a href="/">The dashboard</a></p>
</main>`,
  ),
  '/docs/http': page(
    'labrun HTTP API',
    '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">\n',
    `${nav('/docs/http')}
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/http.js"></script>`,
  ),
  '/docs/mqtt': page(
    'labrun MQTT contract',
    '<link rel="stylesheet" href="/docs/assets/asyncapi.min.css">\n',
    `${nav('/docs/mqtt')}
<div id="asyncapi"></div>
<script src="/docs/assets/asyncapi-standalone.js"></script>
<script src="/docs/assets/mqtt.js"></script>`,
  ),
};

export function docsPage(_ctx: unknown, { path }: ApiRequest): Answer {
  const body = PAGES[path];
  if (!body) throw notFound(`no such page: ${path}`);
  return { status: 200, file: { body, contentType: HTML }, headers: { 'content-security-policy': CSP[path]! } };
}

const packageFiles = new Map<string, Promise<Buffer>>();

/** A package's file, read once. */
function packageFile(name: string, module: string): Promise<Buffer> {
  let file = packageFiles.get(name);
  if (!file) {
    file = readFile(require.resolve(module));
    // A failure is not kept: a package installed afterwards is found on the next request.
    file.catch(() => packageFiles.delete(name));
    packageFiles.set(name, file);
  }
  return file;
}

export async function docsAsset(_ctx: unknown, { params: [name = ''] }: ApiRequest): Promise<Answer> {
  const own = Object.hasOwn(OWN_ASSETS, name) ? OWN_ASSETS[name] : undefined;
  if (own) return { status: 200, file: own };
  const asset = Object.hasOwn(PACKAGE_ASSETS, name) ? PACKAGE_ASSETS[name] : undefined;
  if (!asset) throw notFound(`no such file of the docs: ${name}`);
  let body: Buffer;
  try {
    body = await packageFile(name, asset.module);
  } catch {
    throw notFound(`the docs' file ${name} is not installed (${asset.module}): install the gateway's dependencies with npm ci`);
  }
  // The files of a pinned package version do not change while the gateway runs.
  return { status: 200, file: { body, contentType: asset.contentType }, headers: { 'cache-control': 'public, max-age=3600' } };
}
