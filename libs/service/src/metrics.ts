// Prometheus metrics every labrun service exposes the same way (`@labrun/service/metrics`, kept out of the main
// entry so that processes without metrics never load prom-client): a registry with the process's default metrics
// under the service's prefix, the labels of an action's answer, and an HTTP server for `GET /metrics`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ACTION_REJECTION_CODES, ACTION_TYPES, RUN_STATUSES, type RunEvent, type RunStatus } from '@labrun/contracts';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { listen, ListenError, urlHost, type Listener } from './listen.js';
import type { Logger } from './log.js';

/**
 * prom-client's default metrics name three gauges `…_total` (active handles, requests, resources), which
 * `promtool check metrics` flags ("non-counter metrics should not have _total suffix"). Their per-type
 * gauges without the suffix (`nodejs_active_handles{type}`, …) carry the same counts, so these are left out.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A registry holding the process's default metrics (CPU, memory, event loop lag, GC, …), each name after `prefix`. */
export function createMetricsRegistry(prefix: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(prefix + name);
  return registry;
}

/** How many of `runs` are in each status: every status of the contract is there, 0 when none (a gauge per status). */
export function runsByStatus(runs: Iterable<{ status: RunStatus }>): Record<RunStatus, number> {
  const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
  for (const { status } of runs) counts[status]++;
  return counts;
}

/** What labels an answered action gets: every value from a short fixed list, so a hostile payload cannot add series. */
export interface ActionAnswerLabels {
  /** The action's type, or `invalid` for a payload that was not a readable action. */
  type: string;
  result: 'accepted' | 'rejected';
  /** A rejection's code; `other` for a code this build does not know. Absent for an accepted action. */
  code?: string;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(ACTION_TYPES);
const KNOWN_CODES: ReadonlySet<string> = new Set(ACTION_REJECTION_CODES);

/** The type label of an action: its type when it is one the contract knows, else `invalid`. */
export const actionTypeLabel = (type: string | null): string => (type !== null && KNOWN_TYPES.has(type) ? type : 'invalid');

/** The labels of an `action.accepted` or `action.rejected` event; null for any other event. */
export function actionAnswerLabels(event: RunEvent): ActionAnswerLabels | null {
  if (event.type === 'action.accepted') return { type: event.action, result: 'accepted' };
  if (event.type === 'action.rejected') return { type: actionTypeLabel(event.action), result: 'rejected', code: KNOWN_CODES.has(event.code) ? event.code : 'other' };
  return null;
}

/** Answer a scrape: the registry's text in the exposition format, with its content type. */
export async function answerScrape(registry: Registry, res: ServerResponse): Promise<void> {
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** An HTTP server that answers `GET /metrics` (and HEAD) from `registry`, 404 elsewhere: a service's metrics port. */
export function createMetricsServer(registry: Registry, onError: (error: Error) => void): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at GET /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end(`${req.method} is not allowed on /metrics; use GET\n`);
      return;
    }
    answerScrape(registry, res).catch((error: Error) => {
      onError(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`could not collect the metrics: ${error.message}\n`);
    });
  });
}

/**
 * Serve `registry` on `GET /metrics` at `host`:`port` (0 picks a free port) and log where: a service's metrics port.
 * A port that cannot be had is said in the user's words (which variable to change) and the process exits 1.
 */
export async function serveMetrics(registry: Registry, listener: Listener, host: string, port: number, log: Logger): Promise<Server> {
  const server = createMetricsServer(registry, (error) => log.error('could not collect the metrics', { error: error.message }));
  try {
    const bound = await listen(server, listener, host, port);
    log.info('metrics listening', { http: `http://${urlHost(host)}:${bound}/metrics` });
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    log.error(error.message);
    process.exit(1);
  }
  return server;
}
