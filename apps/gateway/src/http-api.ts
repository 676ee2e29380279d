// The gateway's HTTP API: read-only views of the broker cache, as JSON. Every answer, errors included, is a
// JSON body: `{ data }` on success, `{ error: { code, message } }` otherwise.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BrokerCache } from './broker-cache.js';

export interface ApiContext {
  cache: BrokerCache;
  brokerConnected: () => boolean;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Handler = (ctx: ApiContext, params: string[]) => Answer;

interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

const failure = (status: number, code: string, message: string, headers?: Record<string, string>): Answer => ({
  status,
  body: { error: { code, message } },
  ...(headers ? { headers } : {}),
});

const getHealth: Handler = ({ cache, brokerConnected }) => {
  const health = cache.health(brokerConnected());
  return { status: health.broker ? 200 : 503, body: health };
};

const listRuns: Handler = ({ cache }) => ({ status: 200, body: { data: cache.listRuns() } });

const getRun: Handler = ({ cache }, [runId = '']) => {
  const status = cache.run(runId);
  return status ? { status: 200, body: { data: status } } : failure(404, 'not-found', `no run ${runId}`);
};

const routes: Route[] = [
  { pattern: /^\/healthz$/, methods: { GET: getHealth } },
  { pattern: /^\/runs$/, methods: { GET: listRuns } },
  { pattern: /^\/runs\/([^/]+)$/, methods: { GET: getRun } },
];

/** Answer one request; HEAD is answered as GET without the body (node:http leaves it out). */
export function answer(ctx: ApiContext, method: string, rawUrl: string): Answer {
  const { pathname } = new URL(rawUrl, 'http://gateway');
  const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    let params: string[];
    try {
      params = match.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return failure(400, 'bad-request', `the path ${pathname} is not valid percent-encoding`);
    }
    const allowed = Object.keys(route.methods);
    const handler = route.methods[method === 'HEAD' ? 'GET' : method];
    if (!handler) {
      const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
      return failure(405, 'method-not-allowed', `${method} is not allowed on ${path}; use ${allow.join(' or ')}`, { allow: allow.join(', ') });
    }
    return handler(ctx, params);
  }
  return failure(404, 'not-found', `no such endpoint: ${method} ${path}`);
}

export function createRequestListener(ctx: ApiContext) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const reply = answer(ctx, req.method ?? 'GET', req.url ?? '/');
    const body = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      ...reply.headers,
    });
    res.end(body);
  };
}
