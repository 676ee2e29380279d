// The fleet: `GET /devices` (every device known, its hardware, the engine serving it and its current run) and
// `GET /engines` (every engine, online or not, and what its status says), from the broker cache.
import { notFound } from './http-error.js';
import type { Answer, ApiContext, ApiRequest } from './http-api.js';

export const listDevices = (ctx: ApiContext): Answer => ({ status: 200, body: { data: ctx.cache.listDevices() } });

export function getDevice(ctx: ApiContext, { params: [deviceId = ''] }: ApiRequest): Answer {
  const device = ctx.cache.device(deviceId);
  if (!device) throw notFound(`no device ${deviceId}: no hardware service, engine or run has named it`);
  return { status: 200, body: { data: device } };
}

export const listEngines = (ctx: ApiContext): Answer => ({ status: 200, body: { data: ctx.cache.listEngines() } });

export function getEngine(ctx: ApiContext, { params: [engineId = ''] }: ApiRequest): Answer {
  const engine = ctx.cache.engine(engineId);
  if (!engine) throw notFound(`no engine ${engineId}`);
  return { status: 200, body: { data: engine } };
}
