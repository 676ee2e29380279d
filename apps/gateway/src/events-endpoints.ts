// The live views as server-sent events. `GET /runs/:id/events` follows one run: `status` first (then on every
// change), `commands` (the commands document), and `event` for each run event. `GET /events` follows
// everything, for dashboards: `runs` and `health` first, then `status`, `event`, `run-removed` and `health`.
import { notFound } from './http-error.js';
import { openEventStream } from './event-stream.js';
import type { ApiContext, ApiRequest } from './http-api.js';

export function followRun(ctx: ApiContext, { params: [runId = ''], req, res, method }: ApiRequest): null {
  const status = ctx.cache.run(runId);
  if (!status) throw notFound(`no run ${runId}`);
  const stream = openEventStream(req, res);
  if (method === 'HEAD') {
    stream.end();
    return null;
  }
  stream.send('status', status);
  const commands = ctx.cache.commands(runId);
  if (commands) stream.send('commands', commands);
  stream.onClose(
    ctx.cache.follow((update) => {
      if (update.kind === 'health' || update.runId !== runId) return;
      if (update.kind === 'status') stream.send('status', update.status);
      else if (update.kind === 'commands') stream.send('commands', update.commands);
      else if (update.kind === 'event') stream.send('event', update.event);
      else if (update.kind === 'run-removed') stream.send('run-removed', { runId });
    }),
  );
  return null;
}

export function followEverything(ctx: ApiContext, { req, res, method }: ApiRequest): null {
  const stream = openEventStream(req, res);
  if (method === 'HEAD') {
    stream.end();
    return null;
  }
  stream.send('runs', ctx.cache.listRuns());
  stream.send('health', ctx.cache.health(ctx.brokerConnected()));
  stream.onClose(
    ctx.cache.follow((update) => {
      if (update.kind === 'status') stream.send('status', update.status);
      else if (update.kind === 'event') stream.send('event', update.event);
      else if (update.kind === 'run-removed') stream.send('run-removed', { runId: update.runId });
      else if (update.kind === 'health') stream.send('health', ctx.cache.health(ctx.brokerConnected()));
    }),
  );
  return null;
}
