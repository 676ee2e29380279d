// The gateway's HTTP API: routes, methods, who may call each (with an auth file: a bearer token of a role that
// may), and the one shape every answer has — `{ data }` on success, `{ error: { code, message } }` otherwise —
// plus the dashboard's files and the live event streams.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@labrun/service';
import type { BrokerCache } from './broker-cache.js';
import { readExamples, type StaticFile } from './dashboard-files.js';
import { docsAsset, docsPage, getAsyncApi, getOpenApi } from './docs-endpoints.js';
import { followEverything, followRun } from './events-endpoints.js';
import { getDevice, getEngine, listDevices, listEngines } from './fleet-endpoints.js';
import type { Access, Caller, GatewayAuth } from './http-auth.js';
import { HttpError, notFound } from './http-error.js';
import { getMetrics, type GatewayMetrics } from './metrics.js';
import type { RunRequests } from './run-requests.js';
import { createRun, getRun, listCommands, listRuns, postAction } from './runs-endpoints.js';
import { endSession, startSession } from './session-endpoints.js';

export interface ApiContext {
  cache: BrokerCache;
  brokerConnected: () => boolean;
  /** Creates and actions, sent to the engine over MQTT. */
  requests: RunRequests;
  /** The dashboard's files by URL path (`/` for the page itself). */
  dashboard: ReadonlyMap<string, StaticFile>;
  /** Where the example protocols the dashboard offers are. */
  examplesDir: string;
  /** Picks the id of a run created without one (tests fix it). */
  newRunId?: () => string;
  /** The bearer tokens, when the gateway has an auth file; without one every request is let in. */
  auth?: GatewayAuth;
  /** Prometheus metrics for `GET /metrics`. */
  metrics?: GatewayMetrics;
  log?: Logger;
}

export interface ApiRequest {
  /** As the client sent it: HEAD is answered by the GET handler, and node:http leaves the body out. */
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
  /** Whose token the request carried; null without an auth file (or on a public endpoint). */
  caller: Caller | null;
}

export interface Answer {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (the dashboard's files). */
  file?: StaticFile;
  headers?: Record<string, string>;
}

/** A handler answers, or returns null when it has taken the response over (server-sent events). */
type Handler = (ctx: ApiContext, request: ApiRequest) => Answer | null | Promise<Answer | null>;

export interface Endpoint {
  handle: Handler;
  access: Access;
  /** Whether the session cookie counts as the token: only for event streams, which EventSource opens without headers. */
  cookie?: boolean;
}
const anyone = (handle: Handler): Endpoint => ({ handle, access: 'public' });
const watch = (handle: Handler): Endpoint => ({ handle, access: 'watch' });
const stream = (handle: Handler): Endpoint => ({ handle, access: 'watch', cookie: true });
const control = (handle: Handler): Endpoint => ({ handle, access: 'control' });

export interface Route {
  pattern: RegExp;
  methods: Record<string, Endpoint>;
}

const getHealth: Handler = ({ cache, brokerConnected }) => {
  const health = cache.health(brokerConnected());
  return { status: health.broker ? 200 : 503, body: health };
};

const listExamples: Handler = async ({ examplesDir }) => ({ status: 200, body: { data: await readExamples(examplesDir) } });

const dashboardFile: Handler = ({ dashboard }, { path }) => {
  const file = dashboard.get(path);
  if (!file) throw notFound(`no such endpoint: GET ${path}`);
  return { status: 200, file };
};

// The dashboard's files are public, so a browser can load the page that asks for a token. POST /session checks
// the token it is sent itself (any role may start a session). The API documents and their pages are public too.
// Every route is described in the OpenAPI document (openapi.ts); the tests check that none is left out.
export const routes: readonly Route[] = [
  { pattern: /^\/(?:|dashboard\.css|dashboard\.js|favicon\.svg)$/, methods: { GET: anyone(dashboardFile) } },
  { pattern: /^\/session$/, methods: { POST: watch(startSession), DELETE: anyone(endSession) } },
  { pattern: /^\/healthz$/, methods: { GET: watch(getHealth) } },
  { pattern: /^\/metrics$/, methods: { GET: watch(getMetrics) } },
  { pattern: /^\/events$/, methods: { GET: stream(followEverything) } },
  { pattern: /^\/examples$/, methods: { GET: watch(listExamples) } },
  { pattern: /^\/runs$/, methods: { GET: watch(listRuns), POST: control(createRun) } },
  { pattern: /^\/runs\/([^/]+)$/, methods: { GET: watch(getRun) } },
  { pattern: /^\/runs\/([^/]+)\/commands$/, methods: { GET: watch(listCommands) } },
  { pattern: /^\/runs\/([^/]+)\/actions$/, methods: { POST: control(postAction) } },
  { pattern: /^\/runs\/([^/]+)\/events$/, methods: { GET: stream(followRun) } },
  { pattern: /^\/devices$/, methods: { GET: watch(listDevices) } },
  { pattern: /^\/devices\/([^/]+)$/, methods: { GET: watch(getDevice) } },
  { pattern: /^\/engines$/, methods: { GET: watch(listEngines) } },
  { pattern: /^\/engines\/([^/]+)$/, methods: { GET: watch(getEngine) } },
  { pattern: /^\/openapi\.json$/, methods: { GET: anyone(getOpenApi) } },
  { pattern: /^\/asyncapi\.json$/, methods: { GET: anyone(getAsyncApi) } },
  { pattern: /^\/docs(?:\/http|\/mqtt)?$/, methods: { GET: anyone(docsPage) } },
  { pattern: /^\/docs\/assets\/([^/]+)$/, methods: { GET: anyone(docsAsset) } },
];

/** Find the route and endpoint for a request; errors (404, 405, a bad path) are thrown as HttpError. */
function route(method: string, rawUrl: string): { endpoint: Endpoint; path: string; params: string[]; query: URLSearchParams } {
  const url = new URL(rawUrl, 'http://gateway');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
  for (const { pattern, methods } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    let params: string[];
    try {
      params = match.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      throw new HttpError(400, 'bad-request', `the path ${url.pathname} is not valid percent-encoding`);
    }
    const endpoint = methods[method === 'HEAD' ? 'GET' : method];
    if (!endpoint) {
      const allowed = Object.keys(methods);
      const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
      throw new HttpError(405, 'method-not-allowed', `${method} is not allowed on ${path}; use ${allow.join(' or ')}`, { allow: allow.join(', ') });
    }
    return { endpoint, path, params, query: url.searchParams };
  }
  throw notFound(`no such endpoint: ${method} ${path}`);
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
const PAGE_HEADERS = {
  ...SECURITY_HEADERS,
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent) return void res.end();
  if (answer.file) {
    res.writeHead(answer.status, { 'content-type': answer.file.contentType, 'content-length': answer.file.body.byteLength, 'cache-control': 'no-cache', ...PAGE_HEADERS, ...answer.headers });
    res.end(answer.file.body);
    return;
  }
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
    ...answer.headers,
  });
  res.end(body); // node:http leaves the body out of an answer to HEAD
}

export function createRequestListener(ctx: ApiContext) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    void (async () => {
      try {
        const { endpoint, path, params, query } = route(method, req.url ?? '/');
        const caller = ctx.auth && endpoint.access !== 'public' ? await ctx.auth.authenticate(req, endpoint.access, { cookie: endpoint.cookie === true, what: `${method} ${path}` }) : null;
        const answer = await endpoint.handle(ctx, { method, path, params, query, req, res, caller });
        if (answer) send(res, answer);
      } catch (error) {
        if (error instanceof HttpError) {
          send(res, { status: error.status, body: error.body, headers: error.headers });
          if (error.headers.connection === 'close') res.once('finish', () => req.destroy());
          return;
        }
        ctx.log?.error('request failed', { method, url: req.url, error: (error as Error)?.stack ?? String(error) });
        send(res, { status: 500, body: { error: { code: 'internal-error', message: `the gateway failed to answer: ${(error as Error)?.message ?? String(error)}` } } });
      }
    })();
  };
}
