// The gateway's answers as zod schemas, for the OpenAPI document (openapi.ts). The payloads themselves (status
// and commands documents, protocols, actions, hardware states) are the contract's schemas; what is here is only
// what the HTTP API adds around them: the `{ data }` and `{ error }` envelopes, the fleet views, health, examples
// and sessions. The handlers build these answers from TypeScript types; the checks at the end of this file fail
// the build when a schema and the type it describes say different things, so the document cannot drift.
import { z } from 'zod';
import { ActionType, EngineStatus, HardwareState, PauseMode, ProtocolDocument, RunCommand, RunStatusDocument, type FleetDevice } from '@labrun/contracts';
import { ROLES } from '@labrun/auth';
import type { EngineView, Health } from './broker-cache.js';
import type { Example } from './dashboard-files.js';

const isoTime = z.iso.datetime();

/** Every error answer: `{ error: { code, message } }`, and for some errors more beside them. */
export const ApiError = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ description: 'What went wrong, as a stable word: `not-found`, `invalid-action`, `not-paused`, `unknown-device`, …' }),
    message: z.string().meta({ description: 'What went wrong, for a person.' }),
    actionId: z.string().optional().meta({ description: 'A refused action: its id (yours, or the one the gateway gave it).' }),
    role: z.string().optional().meta({ description: '403: the role of the token that was sent.' }),
    requiredRole: z.string().optional().meta({ description: '403: the least role that may make this request.' }),
    retryAfterSeconds: z.number().int().optional().meta({ description: '429: when the address may try again.' }),
  }),
});

export const DeviceView = z.strictObject({ online: z.boolean(), state: HardwareState.nullable() });

export const HealthSchema = z.strictObject({
  broker: z.boolean().meta({ description: 'Whether the gateway is connected to the MQTT broker.' }),
  engines: z.record(z.string(), z.boolean()).meta({ description: 'Each engine by id: its `engine/<id>/online` flag.' }),
  devices: z.record(z.string(), DeviceView).meta({ description: 'Each device by id: its hardware service’s online flag and state.' }),
});

export const EngineViewSchema = z.strictObject({
  engineId: z.string(),
  online: z.boolean().meta({ description: 'Its `engine/<id>/online` flag; false until one was seen.' }),
  devices: z.array(z.string()).nullable().meta({ description: 'The devices it serves, as its status says; null without a status or from an engine before fleets.' }),
  standby: z.array(z.strictObject({ deviceId: z.string(), servedBy: z.string() })).meta({ description: 'Devices it is configured for that another engine serves.' }),
  onlineSince: z.string().nullable(),
  journal: EngineStatus.shape.journal.nullable(),
  activeRuns: z.number().nullable(),
  maxActiveRuns: z.number().nullable(),
  statusAt: z.string().nullable().meta({ description: 'When its status was published; null without one.' }),
});

export const FleetDeviceSchema = z.strictObject({
  deviceId: z.string(),
  online: z.boolean().meta({ description: 'Its hardware service’s `hw/<id>/online` flag; false until one was seen.' }),
  state: HardwareState.nullable(),
  engineId: z.string().nullable().meta({ description: 'The online engine serving it, or null when none does (creates for it are refused `unknown-device`).' }),
  standby: z.array(z.string()).meta({ description: 'Online engines configured for it that stand by while another serves it.' }),
  current: RunStatusDocument.nullable().meta({ description: 'The status of its current run (the run on it now, else the last one to finish), or null.' }),
});

export const ExampleSchema = z.strictObject({
  id: z.string().meta({ description: 'The file name without `.json`.' }),
  name: z.string(),
  description: z.string().nullable(),
  protocol: ProtocolDocument,
});

export const CommandsPage = z.strictObject({
  data: z.array(RunCommand),
  meta: z.strictObject({
    runId: z.string(),
    seq: z.number().int().nonnegative().meta({ description: 'The seq of the commands document (0 before the engine published one).' }),
    cursor: z.number().int().nonnegative(),
    totalLength: z.number().int().nonnegative(),
    current: z.number().int().nullable().meta({ description: 'The index of the current command, or null.' }),
  }),
});

export const AcceptedAction = z.strictObject({
  id: z.string().meta({ description: 'The action id: yours, or `gw-<uuid>`.' }),
  type: ActionType,
  by: z.string().nullable(),
  message: z.string().nullable(),
  mode: PauseMode.nullable(),
  createdAt: isoTime.meta({ description: 'When the engine accepted it.' }),
});

export const Session = z.union([
  z.strictObject({ authentication: z.literal(false) }).meta({ description: 'The gateway has no auth file: no token is needed.' }),
  z.strictObject({ authentication: z.literal(true), token: z.string(), user: z.string(), role: z.enum(ROLES) }),
]);

// Compile-time checks: each schema describes exactly the type the handlers answer with.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const describesTheAnswers: [
  Same<z.infer<typeof HealthSchema>, Health>,
  Same<z.infer<typeof EngineViewSchema>, EngineView>,
  Same<z.infer<typeof FleetDeviceSchema>, FleetDevice>,
  Same<z.infer<typeof ExampleSchema>, Example>,
] = [true, true, true, true];
void describesTheAnswers;
