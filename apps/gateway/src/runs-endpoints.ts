// The /runs endpoints, in the style of Opentrons' robot-server: `{ data }` answers; creates and actions go to
// the engine over MQTT and are answered with what the engine said. Statuses come from the broker cache.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ACTION_TYPES, ACTION_LIMITS, CREATE_LIMITS, CreateRun, DeviceId, ProtocolDocument, RUN_STATUSES, RunAction, RunId, validate, type RunStatus, type RunStatusDocument } from '@labrun/contracts';
import { readJsonBody } from './http-body.js';
import { HttpError, notFound } from './http-error.js';
import type { Answer, ApiContext, ApiRequest } from './http-api.js';

/** `POST /runs` takes a protocol document, or `{ protocol, deviceId?, runId? }`. */
export const CreateRunRequest = CreateRun.extend({ runId: RunId.optional() });

const CommandsQuery = z.strictObject({
  cursor: z.coerce.number({ error: 'cursor must be a number' }).int({ error: 'cursor must be a whole number' }).nonnegative({ error: 'cursor must be 0 or more' }).optional(),
  pageLength: z.coerce.number({ error: 'pageLength must be a number' }).int({ error: 'pageLength must be a whole number' }).positive({ error: 'pageLength must be 1 or more' }).optional(),
});

/** `GET /runs?deviceId=<id>&status=<status>[,<status>…]`: both optional. */
const RunsQuery = z.strictObject({
  deviceId: DeviceId.optional(),
  status: z
    .string()
    .transform((list) => list.split(','))
    .pipe(z.array(z.enum(RUN_STATUSES, { error: (issue) => `${JSON.stringify(issue.input)} is not a run status: expected one of ${RUN_STATUSES.join(', ')}` })))
    .optional(),
});

const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;

function knownRun(ctx: ApiContext, runId: string): RunStatusDocument {
  const status = ctx.cache.run(runId);
  if (!status) throw notFound(`no run ${runId}`);
  return status;
}

function requireBroker(ctx: ApiContext): void {
  if (!ctx.brokerConnected()) {
    throw new HttpError(503, 'broker-unavailable', 'the gateway is not connected to the MQTT broker; try again once GET /healthz says "broker": true', { 'retry-after': '2' });
  }
}

/** Every known run, oldest first; `?deviceId=` keeps that device's, `?status=paused,blocked` those statuses. */
export function listRuns(ctx: ApiContext, { query }: ApiRequest): Answer {
  const given = [...new Set(query.keys())];
  const repeated = given.find((key) => query.getAll(key).length > 1);
  if (repeated) throw new HttpError(422, 'invalid-query', `the query gives ${repeated} more than once; give it once (status takes a comma-separated list)`);
  const parsed = validate(RunsQuery, Object.fromEntries(query));
  if (!parsed.ok) throw new HttpError(422, 'invalid-query', `the query is not one GET /runs takes (deviceId, status):\n${parsed.error}`);
  const { deviceId, status } = parsed.value;
  const statuses = status && new Set<RunStatus>(status);
  const data = ctx.cache.listRuns().filter((run) => (deviceId === undefined || run.deviceId === deviceId) && (statuses === undefined || statuses.has(run.status)));
  return { status: 200, body: { data } };
}

export const getRun = (ctx: ApiContext, { params: [runId = ''] }: ApiRequest): Answer => ({ status: 200, body: { data: knownRun(ctx, runId) } });

/**
 * Every command of the run with its status, times and error, from the engine's retained commands document.
 * `?cursor=<index>&pageLength=<n>` returns a slice, for runs with many commands.
 */
export function listCommands(ctx: ApiContext, { params: [runId = ''], query }: ApiRequest): Answer {
  const status = knownRun(ctx, runId);
  const parsed = validate(CommandsQuery, Object.fromEntries(query));
  if (!parsed.ok) throw new HttpError(422, 'invalid-query', `the query is not one GET ${runPath(runId)}/commands takes:\n${parsed.error}`);
  const document = ctx.cache.commands(runId);
  const all = document?.commands ?? [];
  const cursor = Math.min(parsed.value.cursor ?? 0, all.length);
  const data = parsed.value.pageLength === undefined ? all.slice(cursor) : all.slice(cursor, cursor + parsed.value.pageLength);
  return {
    status: 200,
    body: { data, meta: { runId, seq: document?.seq ?? 0, cursor, totalLength: document ? all.length : status.progress.total, current: status.current?.index ?? null } },
  };
}

export async function createRun(ctx: ApiContext, { req }: ApiRequest): Promise<Answer> {
  const body = await readJsonBody(req, CREATE_LIMITS);
  const isRequest = typeof body === 'object' && body !== null && 'protocol' in body;
  // What is wrong with the protocol is said about the protocol (`at commands[1].type`), whether it came alone or
  // in the { "protocol": … } wrapper a dashboard adds around what its user pasted.
  const protocol = validate(ProtocolDocument, isRequest ? (body as { protocol: unknown }).protocol : body);
  if (!protocol.ok) throw new HttpError(422, 'invalid-protocol', `the protocol is not one labrun can run:\n${protocol.error}`);
  const parsed = isRequest ? validate(CreateRunRequest, body) : protocol;
  if (!parsed.ok) throw new HttpError(422, 'invalid-protocol', `the body is not { "protocol": <protocol document>, "deviceId"?, "runId"? }:\n${parsed.error}`);
  const { runId: chosen, ...create } = isRequest ? (parsed.value as z.infer<typeof CreateRunRequest>) : { protocol: parsed.value as ProtocolDocument, runId: undefined };
  requireBroker(ctx);
  const runId = chosen ?? freshRunId(ctx);
  const existed = ctx.cache.run(runId) !== undefined;
  // When every online engine has said which devices it serves and none serves this one, no engine would take the
  // create: answer as the engines would, without making the caller wait for it.
  const unserved = create.deviceId === undefined ? null : ctx.cache.knownUnserved(create.deviceId);
  if (unserved) {
    const served = unserved.served.length ? unserved.served.join(', ') : 'none';
    throw new HttpError(422, 'unknown-device', `cannot create run ${runId}: no online engine serves device ${create.deviceId}; the devices served now are ${served}`);
  }
  const answer = await ctx.requests.create(runId, create);
  switch (answer.kind) {
    case 'created':
      // Creating a run again with the same protocol is harmless: 200 says it was already there.
      return { status: existed ? 200 : 201, body: { data: answer.status }, headers: { location: runPath(runId) } };
    case 'rejected':
      throw new HttpError(422, answer.event.code, answer.event.message);
    case 'no-answer':
      throw new HttpError(504, 'engine-timeout', answer.message);
  }
}

export async function postAction(ctx: ApiContext, { params: [runId = ''], req, caller }: ApiRequest): Promise<Answer> {
  knownRun(ctx, runId);
  const body = await readJsonBody(req, ACTION_LIMITS);
  const parsed = validate(RunAction, body);
  if (!parsed.ok)
    throw new HttpError(422, 'invalid-action', `the body is not an action, { "type": ${ACTION_TYPES.map((t) => JSON.stringify(t)).join(' | ')}, "id"?, "by"?, "message"?, "mode"? }:\n${parsed.error}`);
  requireBroker(ctx);
  // Who acts: the name the body gives (an operator at a shared dashboard), else the user of the caller's token.
  const by = parsed.value.by ?? caller?.user;
  const action = { ...parsed.value, id: parsed.value.id ?? `gw-${randomUUID()}`, ...(by === undefined ? {} : { by }) };
  const answer = await ctx.requests.act(runId, action);
  switch (answer.kind) {
    case 'accepted': {
      const { actionId, action: type, by, message, mode, at } = answer.event;
      return { status: 201, body: { data: { id: actionId, type, by, message, mode, createdAt: at } } };
    }
    case 'rejected': {
      const { code, message, actionId } = answer.event;
      // The engine may not know a run the broker still holds a retained status of.
      const status = code === 'unknown-run' ? 404 : code === 'invalid-action' ? 422 : 409;
      throw new HttpError(status, code, message, {}, { actionId });
    }
    case 'no-answer':
      throw new HttpError(504, 'engine-timeout', answer.message);
  }
}

/** A run id no run known here has, as the CLI picks them: `r-` and 8 hex digits. */
function freshRunId(ctx: ApiContext): string {
  const pick = ctx.newRunId ?? (() => `r-${randomUUID().slice(0, 8)}`);
  let runId = pick();
  for (let tries = 1; tries < 10 && ctx.cache.run(runId); tries++) runId = pick();
  return runId;
}
