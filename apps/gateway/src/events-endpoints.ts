// The live views as server-sent events. `GET /runs/:id/events` follows one run: `status` first (then on every
// change), `commands` (the commands document), and `event` for each run event. `GET /events` follows
// everything, for dashboards: `runs`, `health` and `devices` first, then `status`, `event`, `run-removed`, `health`
// and `devices` (every device with its engine and current run, as GET /devices; sent when it changed).
// With an auth file, a stream ends when its token is removed from the file (the client then gets a 401).
import { notFound } from './http-error.js';
import { openEventStream, type EventStream } from './event-stream.js';
import type { ApiContext, ApiRequest } from './http-api.js';

/** End `stream` once the caller's token stops allowing it to watch. */
function endWhenRevoked(ctx: ApiContext, { caller }: ApiRequest, stream: EventStream): void {
  if (ctx.auth && caller) stream.onClose(ctx.auth.hold(caller, 'watch', () => stream.end()));
}

export function followRun(ctx: ApiContext, request: ApiRequest): null {
  const {
    params: [runId = ''],
    req,
    res,
    method,
  } = request;
  const status = ctx.cache.run(runId);
  if (!status) throw notFound(`no run ${runId}`);
  const stream = openEventStream(req, res);
  if (method === 'HEAD') {
    stream.end();
    return null;
  }
  endWhenRevoked(ctx, request, stream);
  stream.send('status', status);
  const commands = ctx.cache.commands(runId);
  if (commands) stream.send('commands', commands);
  stream.onClose(
    ctx.cache.follow((update) => {
      if (!('runId' in update) || update.runId !== runId) return;
      if (update.kind === 'status') stream.send('status', update.status);
      else if (update.kind === 'commands') stream.send('commands', update.commands);
      else if (update.kind === 'event') stream.send('event', update.event);
      else if (update.kind === 'run-removed') stream.send('run-removed', { runId });
    }),
  );
  return null;
}

export function followEverything(ctx: ApiContext, request: ApiRequest): null {
  const { req, res, method } = request;
  const stream = openEventStream(req, res);
  if (method === 'HEAD') {
    stream.end();
    return null;
  }
  endWhenRevoked(ctx, request, stream);
  stream.send('runs', ctx.cache.listRuns());
  stream.send('health', ctx.cache.health(ctx.brokerConnected()));
  const devices = followDevices(ctx, stream);
  stream.onClose(
    ctx.cache.follow((update) => {
      if (update.kind === 'status') stream.send('status', update.status);
      else if (update.kind === 'event') stream.send('event', update.event);
      else if (update.kind === 'run-removed') stream.send('run-removed', { runId: update.runId });
      else if (update.kind === 'health') stream.send('health', ctx.cache.health(ctx.brokerConnected()));
      if (update.kind !== 'event' && update.kind !== 'commands') devices.changed();
    }),
  );
  return null;
}

/** At most this often `GET /events` sends the devices again: a burst of statuses (a reconnect, a run moving) is one. */
export const DEVICES_EVERY_MS = 100;

/** `devices` (as `GET /devices` answers) now, then again a moment after each change that altered it. */
function followDevices(ctx: ApiContext, stream: EventStream): { changed(): void } {
  let last = JSON.stringify(ctx.cache.listDevices());
  stream.send('devices', JSON.parse(last));
  let pending: ReturnType<typeof setTimeout> | undefined;
  stream.onClose(() => clearTimeout(pending));
  return {
    changed() {
      pending ??= setTimeout(() => {
        pending = undefined;
        const devices = ctx.cache.listDevices();
        const now = JSON.stringify(devices);
        if (now === last) return;
        last = now;
        stream.send('devices', devices);
      }, DEVICES_EVERY_MS);
    },
  };
}
