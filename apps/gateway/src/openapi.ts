// The OpenAPI 3.1 document of the gateway's HTTP API (`GET /openapi.json`, and docs/openapi.json), generated from
// the zod schemas that validate the requests and type the answers, the way libs/contracts generates the AsyncAPI
// document of the MQTT contract: zod's own z.toJSONSchema, whose JSON Schema 2020-12 is OpenAPI 3.1's schema
// dialect, so no converter library stands between the schemas and the document. Every schema is a component
// (`#/components/schemas/<name>`), so the big ones (a protocol, a status document) are written once
// (schemaComponents, shared with the AsyncAPI document). openapi-routes.ts checks it against the router's table: a route without a path
// here, or with other access rules, fails the tests.
import { z } from 'zod';
import {
  ACTION_LIMITS,
  ACTION_TYPES,
  CREATE_LIMITS,
  DeviceId,
  EngineId,
  ProtocolDocument,
  RUN_STATUSES,
  RunAction,
  HardwareState,
  RunCommand,
  RunCommandsDocument,
  RunEvent,
  RunId,
  RunStatusDocument,
  inlineSchema,
  schemaComponents,
} from '@labrun/contracts';
import type { Access } from './http-auth.js';
import { AcceptedAction, ApiError, CommandsPage, EngineViewSchema, ExampleSchema, FleetDeviceSchema, HealthSchema, Session } from './http-schemas.js';
import { CreateRunRequest } from './runs-endpoints.js';

/** The components, by name. Each is written once and referred to by `$ref` wherever it appears. */
const COMPONENTS: Record<string, z.ZodType> = {
  ProtocolDocument,
  CreateRunRequest,
  RunAction,
  RunStatusDocument,
  RunCommandsDocument,
  RunCommand,
  RunEvent,
  HardwareState,
  FleetDevice: FleetDeviceSchema,
  Engine: EngineViewSchema,
  Health: HealthSchema,
  Example: ExampleSchema,
  CommandsPage,
  AcceptedAction,
  Session,
  Error: ApiError,
};

const ref = (name: keyof typeof COMPONENTS & string) => ({ $ref: `#/components/schemas/${name}` });

const json = (schema: unknown) => ({ 'application/json': { schema } });
const answer = (description: string, schema: unknown = ref('Error')) => ({ description, content: json(schema) });
const dataAnswer = (description: string, schema: unknown) => answer(description, { type: 'object', additionalProperties: false, required: ['data'], properties: { data: schema } });
const error = (description: string) => answer(description);
const idSchema = inlineSchema;
const pathParameter = (name: string, description: string, id: z.ZodType) => ({ name, in: 'path', required: true, description, schema: idSchema(id) });

const runId = pathParameter('runId', 'The run id: 1-128 characters, no +, #, / or control characters, not starting with $ (percent-encoded in the path).', RunId);
const deviceId = pathParameter('deviceId', 'The device id (same rules as run ids).', DeviceId);
const engineId = pathParameter('engineId', 'The engine id (same rules as run ids).', EngineId);

const sse = (description: string) => ({
  description,
  content: {
    'text/event-stream': { schema: { type: 'string', description: 'Server-sent events: `event: <name>` and one `data:` line of JSON each; a comment line every 15 s keeps the connection open.' } },
  },
});

interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  /** An event stream: the session cookie counts as the token too (EventSource sends no headers). */
  cookie?: boolean;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  operationId: string;
}

/** An operation, with the security and the 401/403/429 answers its access level brings when the gateway has an auth file. */
function operation({ access, cookie, responses, ...rest }: Operation) {
  if (access === 'public') return { ...rest, 'x-labrun-access': access, security: [], responses };
  return {
    ...rest,
    'x-labrun-access': access,
    security: cookie ? [{ bearer: [] }, { session: [] }] : [{ bearer: [] }],
    responses: {
      ...responses,
      '401': error('With an auth file: no token, an unknown one (`invalid-token`) or a malformed Authorization header (`invalid-request`); with `WWW-Authenticate: Bearer`.'),
      '403': error(
        `With an auth file: the token's role may not ${access === 'control' ? 'control runs (that needs operator, service or admin)' : 'watch'} (\`forbidden\`, with \`role\` and \`requiredRole\`).`,
      ),
      '429': error('With an auth file: too many unknown tokens from this address (`too-many-attempts`, with `Retry-After`).'),
    },
  };
}

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

export function openApiDocument(version: string) {
  const notFound = error('No such run, device or engine (`not-found`).');
  const invalidQuery = error('A query it does not take, a value that is not one, or a key given twice (`invalid-query`, with zod’s explanation).');
  const brokerDown = error('The gateway is not connected to the MQTT broker (`broker-unavailable`, with `Retry-After`).');
  const engineTimeout = error('No engine answered within 5 s (`engine-timeout`).');
  const badBody = error('The body is not JSON, is empty, or is nested too deep (`invalid-json`).');
  const wrongMediaType = error('The body was sent as something other than JSON (`unsupported-media-type`); a missing content type counts as JSON.');
  return {
    openapi: '3.1.0',
    info: {
      title: 'labrun gateway',
      version,
      description:
        'The HTTP API of the labrun gateway, in the style of Opentrons’ robot-server: `{ "data": … }` on success, `{ "error": { "code", "message" } }` otherwise. ' +
        'Creates and actions are sent to the engine over MQTT and answered with what it said; everything else comes from what the broker publishes ' +
        '(the MQTT contract: `/docs/mqtt`, `/asyncapi.json`). Every `GET` also answers `HEAD`. ' +
        'Authentication: only when the gateway has an auth file (`LABRUN_AUTH_FILE`), every operation but the dashboard’s files, these documents and ' +
        '`DELETE /session` needs `Authorization: Bearer <token>`; a viewer token may watch, operator, service and admin tokens may also control runs. ' +
        'Without an auth file every request is let in.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'The gateway that serves this document.' }],
    tags: [
      { name: 'runs', description: 'Create runs, act on them, read their status and commands.' },
      { name: 'fleet', description: 'Devices and engines: which engine serves each device, doing what.' },
      { name: 'live', description: 'Server-sent events.' },
      { name: 'gateway', description: 'Health, the dashboard, sessions and these documents.' },
    ],
    paths: {
      '/runs': {
        get: operation({
          operationId: 'listRuns',
          summary: 'List runs',
          description: 'Every run the broker holds a status of, oldest first.',
          tags: ['runs'],
          access: 'watch',
          parameters: [
            { name: 'deviceId', in: 'query', required: false, description: 'Only the runs on this device.', schema: idSchema(DeviceId) },
            {
              name: 'status',
              in: 'query',
              required: false,
              description: 'Only runs in one of these statuses, comma-separated: `?status=paused,blocked`.',
              style: 'form',
              explode: false,
              schema: { type: 'array', items: { type: 'string', enum: [...RUN_STATUSES] }, minItems: 1 },
            },
          ],
          responses: { '200': dataAnswer('The runs’ status documents.', { type: 'array', items: ref('RunStatusDocument') }), '422': invalidQuery },
        }),
        post: operation({
          operationId: 'createRun',
          summary: 'Create a run',
          description:
            'Publishes `run/<runId>/create` and waits for the engine. The gateway picks the run id (`r-` and 8 hex digits) when none is given. ' +
            'Creating a run again with the same protocol is harmless (200).',
          tags: ['runs'],
          access: 'control',
          requestBody: {
            required: true,
            description: `A protocol document alone, or \`{ "protocol", "deviceId"?, "runId"?, "errorRecovery"? }\`; at most ${CREATE_LIMITS.maxBytes} bytes.`,
            content: json({ oneOf: [ref('CreateRunRequest'), ref('ProtocolDocument')] }),
          },
          responses: {
            '201': {
              ...dataAnswer('Created: the new run’s status.', ref('RunStatusDocument')),
              headers: { Location: { description: '`/runs/<runId>`', schema: { type: 'string' } } },
            },
            '200': dataAnswer('The run already existed with this protocol: its status.', ref('RunStatusDocument')),
            '400': badBody,
            '413': error(`The body is larger than ${CREATE_LIMITS.maxBytes} bytes (\`payload-too-large\`).`),
            '415': wrongMediaType,
            '422': error(
              'Not a protocol labrun can run (`invalid-protocol`, with zod’s explanation), or the engine refused it with its `run.rejected` code: ' +
                '`run-exists` (that id with another protocol), `unknown-device` (no online engine serves the device), `too-many-runs`, `journal-unavailable`, …',
            ),
            '503': brokerDown,
            '504': engineTimeout,
          },
        }),
      },
      '/runs/{runId}': {
        get: operation({
          operationId: 'getRun',
          summary: 'A run’s status',
          tags: ['runs'],
          access: 'watch',
          parameters: [runId],
          responses: { '200': dataAnswer('The run’s status document (as retained on `run/<runId>/status`).', ref('RunStatusDocument')), '404': notFound },
        }),
      },
      '/runs/{runId}/commands': {
        get: operation({
          operationId: 'listCommands',
          summary: 'A run’s commands',
          description: 'Every command with its status, times, error, result and attempts, from the retained commands document.',
          tags: ['runs'],
          access: 'watch',
          parameters: [
            runId,
            { name: 'cursor', in: 'query', required: false, description: 'The index of the first command to answer with.', schema: { type: 'integer', minimum: 0 } },
            { name: 'pageLength', in: 'query', required: false, description: 'How many commands at most.', schema: { type: 'integer', minimum: 1 } },
          ],
          responses: { '200': answer('The commands (a slice of them with `cursor` and `pageLength`).', ref('CommandsPage')), '404': notFound, '422': invalidQuery },
        }),
      },
      '/runs/{runId}/actions': {
        post: operation({
          operationId: 'actOnRun',
          summary: 'Act on a run',
          description:
            `Play, pause, resume, stop, skip a delay, or (while a command failed and the run is \`awaiting-recovery\`) retry, skip, home or unlock: ${ACTION_TYPES.join(', ')}. ` +
            'Published on `run/<runId>/actions` with an id (yours, or `gw-<uuid>`) and answered with the engine’s verdict. An id already used is answered again, never applied twice. ' +
            'With an auth file, an action that names no `by` is sent with the token’s user as `by`. Over HTTP an action is always a JSON object (the bare word is for MQTT).',
          tags: ['runs'],
          access: 'control',
          parameters: [runId],
          requestBody: { required: true, description: `The action; at most ${ACTION_LIMITS.maxBytes} bytes.`, content: json(ref('RunAction')) },
          responses: {
            '201': dataAnswer('The engine accepted the action.', ref('AcceptedAction')),
            '400': badBody,
            '404': notFound,
            '409': error(
              'The engine refused the action, with its code and message and the `actionId`: `not-paused`, `already-paused`, `already-running`, `not-started`, `run-finished`, ' +
                '`stopping`, `no-delay`, `interlock-active`, `awaiting-recovery` (a play, resume, pause or skip-delay while a command failed), `not-awaiting-recovery` ' +
                '(a retry, skip, home or unlock when none did), `needs-home` (a retry of motion before the machine was homed), `fixit-in-progress`, `journal-unavailable`.',
            ),
            '413': error(`The body is larger than ${ACTION_LIMITS.maxBytes} bytes (\`payload-too-large\`).`),
            '415': wrongMediaType,
            '422': error('Not an action (`invalid-action`, with zod’s explanation).'),
            '503': brokerDown,
            '504': engineTimeout,
          },
        }),
      },
      '/runs/{runId}/events': {
        get: operation({
          operationId: 'followRun',
          summary: 'Follow a run',
          description:
            'Server-sent events: `status` (the status document: the current one first, then every change), `commands` (the commands document), ' +
            '`event` (each run event: `action.accepted`, `command.started`, …, as the `RunEvent` schema) and `run-removed`.',
          tags: ['live'],
          access: 'watch',
          cookie: true,
          parameters: [runId],
          responses: { '200': sse('The event stream, open until the client closes it (or, with an auth file, its token is removed).'), '404': notFound },
        }),
      },
      '/events': {
        get: operation({
          operationId: 'followEverything',
          summary: 'Follow everything',
          description:
            'Server-sent events for dashboards: `runs` (every status document), `health` (as `GET /healthz`) and `devices` (as `GET /devices`) first, ' +
            'then `status`, `event`, `run-removed`, `health`, and `devices` whenever a device changed (at most every 0.1 s).',
          tags: ['live'],
          access: 'watch',
          cookie: true,
          responses: { '200': sse('The event stream.') },
        }),
      },
      '/devices': {
        get: operation({
          operationId: 'listDevices',
          summary: 'List devices',
          description: 'Every device a hardware service, an engine’s status or a run names: its hardware, the engine serving it and its current run.',
          tags: ['fleet'],
          access: 'watch',
          responses: { '200': dataAnswer('The devices, by id.', { type: 'array', items: ref('FleetDevice') }) },
        }),
      },
      '/devices/{deviceId}': {
        get: operation({
          operationId: 'getDevice',
          summary: 'A device',
          tags: ['fleet'],
          access: 'watch',
          parameters: [deviceId],
          responses: { '200': dataAnswer('The device.', ref('FleetDevice')), '404': notFound },
        }),
      },
      '/engines': {
        get: operation({
          operationId: 'listEngines',
          summary: 'List engines',
          description: 'Every engine known by its online flag or its retained status, online or not.',
          tags: ['fleet'],
          access: 'watch',
          responses: { '200': dataAnswer('The engines, by id.', { type: 'array', items: ref('Engine') }) },
        }),
      },
      '/engines/{engineId}': {
        get: operation({
          operationId: 'getEngine',
          summary: 'An engine',
          tags: ['fleet'],
          access: 'watch',
          parameters: [engineId],
          responses: { '200': dataAnswer('The engine.', ref('Engine')), '404': notFound },
        }),
      },
      '/healthz': {
        get: operation({
          operationId: 'health',
          summary: 'Health',
          tags: ['gateway'],
          access: 'watch',
          responses: { '200': answer('Connected to the broker.', ref('Health')), '503': answer('Not connected to the broker (`"broker": false`).', ref('Health')) },
        }),
      },
      '/metrics': {
        get: operation({
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          description:
            'The Prometheus text exposition format (prom-client): `labrun_runs{status}`, `labrun_devices_online`, `labrun_actions_total{type,result,code}`, ' +
            '`labrun_action_response_seconds{type}`, `labrun_paused_seconds_total`, `labrun_oldest_pause_seconds` and the process metrics; no run id is a label. README "Prometheus".',
          tags: ['gateway'],
          access: 'watch',
          responses: {
            '200': { description: 'The metrics.', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } },
            '404': answer('This gateway collects no metrics.'),
          },
        }),
      },
      '/examples': {
        get: operation({
          operationId: 'listExamples',
          summary: 'Example protocols',
          description: 'The protocol documents in `LABRUN_EXAMPLES_DIR`, which the dashboard offers to start.',
          tags: ['gateway'],
          access: 'watch',
          responses: { '200': dataAnswer('The examples.', { type: 'array', items: ref('Example') }) },
        }),
      },
      '/session': {
        post: operation({
          operationId: 'startSession',
          summary: 'Start a dashboard session',
          description:
            'With an auth file: checks the bearer token and sets it as the `labrun_token` cookie (HttpOnly, SameSite=Strict) that the event streams accept, ' +
            'since a browser’s EventSource cannot send headers. Any role may.',
          tags: ['gateway'],
          access: 'watch',
          responses: { '200': dataAnswer('Who the token is, or that no token is needed.', ref('Session')) },
        }),
        delete: operation({
          operationId: 'endSession',
          summary: 'End a dashboard session',
          description: 'Clears the session cookie.',
          tags: ['gateway'],
          access: 'public',
          responses: { '200': dataAnswer('Done.', { type: 'null' }) },
        }),
      },
      '/': {
        get: operation({
          operationId: 'dashboard',
          summary: 'The dashboard',
          description: 'The dashboard page; its script, style sheet and icon are `/dashboard.js`, `/dashboard.css` and `/favicon.svg`.',
          tags: ['gateway'],
          access: 'public',
          responses: { '200': html('The page.'), '404': notFound },
        }),
      },
      '/openapi.json': {
        get: operation({
          operationId: 'openApi',
          summary: 'This document',
          tags: ['gateway'],
          access: 'public',
          responses: { '200': { description: 'The OpenAPI 3.1 document of the HTTP API.', content: { 'application/json': { schema: { type: 'object' } } } } },
        }),
      },
      '/asyncapi.json': {
        get: operation({
          operationId: 'asyncApi',
          summary: 'The MQTT contract',
          tags: ['gateway'],
          access: 'public',
          responses: { '200': { description: 'The AsyncAPI 3.0 document of the MQTT contract.', content: { 'application/json': { schema: { type: 'object' } } } } },
        }),
      },
      '/docs': {
        get: operation({ operationId: 'docs', summary: 'API docs', tags: ['gateway'], access: 'public', responses: { '200': html('Links to the HTTP API’s and the MQTT contract’s docs.') } }),
      },
      '/docs/http': {
        get: operation({ operationId: 'docsHttp', summary: 'This document, rendered', tags: ['gateway'], access: 'public', responses: { '200': html('The HTTP API, rendered by Swagger UI.') } }),
      },
      '/docs/mqtt': {
        get: operation({
          operationId: 'docsMqtt',
          summary: 'The MQTT contract, rendered',
          tags: ['gateway'],
          access: 'public',
          responses: { '200': html('The MQTT contract, rendered by AsyncAPI’s React component.') },
        }),
      },
      '/docs/assets/{file}': {
        get: operation({
          operationId: 'docsAsset',
          summary: 'A file of the docs pages',
          description: 'The renderers’ scripts and style sheets, served by the gateway from its npm packages, so the docs need no network.',
          tags: ['gateway'],
          access: 'public',
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The file.', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } }, '404': notFound },
        }),
      },
    },
    components: {
      schemas: schemaComponents(COMPONENTS, '#/components/schemas/'),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Only when the gateway has an auth file (`LABRUN_AUTH_FILE`): a token made with `labrun token add <name> --role viewer|operator`. ' +
            'Viewer tokens may watch; operator, service and admin tokens may also create runs and act on them.',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'labrun_token',
          description: 'The cookie `POST /session` sets: the event streams take it instead of the Authorization header.',
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
