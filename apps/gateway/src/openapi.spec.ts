// The OpenAPI document: valid OpenAPI 3.1 by a real validator, describing the runs API with the contract's
// actions, in step with the router's table (a route left out, or with other access rules, is caught), and
// committed up to date in docs/openapi.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { ACTION_TYPES, RUN_STATUSES } from '@labrun/contracts';
import { routes, type Route } from './http-api.js';
import { openApiDocument } from './openapi.js';
import { routeProblems } from './openapi-routes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const committed = path.resolve(here, '../../../docs/openapi.json');
const version = JSON.parse(fs.readFileSync(path.resolve(here, '../package.json'), 'utf8')).version;

/** The validator resolves $refs in place: give it a copy. */
const validated = (document: unknown) => validate(structuredClone(document) as Parameters<typeof validate>[0]);

describe('the OpenAPI document', () => {
  const doc = openApiDocument(version);

  it('is valid OpenAPI 3.1 to @readme/openapi-parser', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validated(doc);
    expect(result).toMatchObject({ valid: true, specification: 'OpenAPI' });
  });

  it('is refused by the same validator when a $ref points nowhere or a response has no description (the check can fail)', async () => {
    const dangling = structuredClone(doc) as any;
    dangling.paths['/runs'].get.responses['200'].content['application/json'].schema.properties.data.items = { $ref: '#/components/schemas/NoSuchSchema' };
    expect((await validated(dangling)).valid).toBe(false);
    const undescribed = structuredClone(doc) as any;
    delete undescribed.paths['/runs/{runId}'].get.responses['200'].description;
    expect((await validated(undescribed)).valid).toBe(false);
  });

  it('describes the runs API: list with its filters, create, one run, its actions with every action type', () => {
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/runs', '/runs/{runId}', '/runs/{runId}/actions', '/runs/{runId}/commands', '/runs/{runId}/events']));
    const list = doc.paths['/runs'].get as any;
    expect(list.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['query:deviceId', 'query:status']);
    expect(list.parameters[1]).toMatchObject({ style: 'form', explode: false, schema: { items: { enum: [...RUN_STATUSES] } } });

    const act = doc.paths['/runs/{runId}/actions'].post as any;
    expect(act.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/RunAction' });
    expect(Object.keys(act.responses)).toEqual(expect.arrayContaining(['201', '404', '409', '422', '401', '403']));
    expect(act.responses['409'].description).toContain('awaiting-recovery');
    const action = doc.components.schemas.RunAction as any;
    expect(action.properties.type.enum).toEqual([...ACTION_TYPES]);
    expect(action.properties.type.enum).toEqual(['play', 'pause', 'resume', 'stop', 'skip-delay', 'retry', 'skip', 'home', 'unlock']);

    const create = doc.paths['/runs'].post as any;
    expect(create.requestBody.content['application/json'].schema.oneOf).toEqual([{ $ref: '#/components/schemas/CreateRunRequest' }, { $ref: '#/components/schemas/ProtocolDocument' }]);
    expect(create.responses['422'].description).toContain('unknown-device');
    expect((doc.components.schemas.RunStatusDocument as any).required).toEqual(expect.arrayContaining(['runId', 'status', 'pause', 'allowedActions', 'seq']));
  });

  it('describes the event streams as text/event-stream, and the bearer token (with the session cookie for streams)', () => {
    expect(Object.keys((doc.paths['/runs/{runId}/events'].get as any).responses['200'].content)).toEqual(['text/event-stream']);
    expect((doc.paths['/runs/{runId}/events'].get as any).security).toEqual([{ bearer: [] }, { session: [] }]);
    expect((doc.paths['/runs'].post as any).security).toEqual([{ bearer: [] }]);
    expect((doc.paths['/openapi.json'].get as any).security).toEqual([]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'labrun_token' });
  });

  it('describes every route of the gateway with its access rules, and nothing it does not serve', () => {
    expect(routeProblems(routes, doc)).toEqual([]);
  });

  it('catches a route the document leaves out, one whose access it gets wrong, and a path nobody serves', () => {
    const handle = () => null;
    const undocumented: Route = { pattern: /^\/stats$/, methods: { GET: { handle, access: 'watch' } } };
    expect(routeProblems([...routes, undocumented], doc)).toEqual(['GET /^\\/stats$/ is served, but the OpenAPI document has no path for it']);

    const publicRuns = routes.map((route) => (route.pattern.test('/runs') ? { ...route, methods: { ...route.methods, GET: { handle, access: 'public' as const } } } : route));
    expect(routeProblems(publicRuns, doc)).toEqual([
      'GET /runs: the OpenAPI document says access watch, the route public',
      'GET /runs: the OpenAPI document gives security bearer, the route takes none',
    ]);

    const withoutDevices = routes.filter((route) => !route.pattern.test('/devices'));
    expect(routeProblems(withoutDevices, doc)).toEqual(['GET /devices is in the OpenAPI document, but the gateway does not serve it']);
  });

  it('is committed up to date in docs/openapi.json (regenerate: npx nx run @labrun/gateway:openapi)', () => {
    expect(fs.readFileSync(committed, 'utf8')).toBe(JSON.stringify(doc, null, 2) + '\n');
  });
});
