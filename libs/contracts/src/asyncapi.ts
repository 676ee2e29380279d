// The AsyncAPI 3.0 document of the MQTT contract, generated from the same zod schemas that validate every
// payload, so the published description cannot drift from what the services accept. Each payload schema is a
// component (`#/components/schemas/<name>`), written once (schema-components.ts).
import { ACTION_TYPES, RunAction } from './actions.js';
import { CreateRun } from './create.js';
import { HardwareReply, HardwareRequest, HardwareState } from './hardware.js';
import { EngineStatus } from './engine-status.js';
import { RunEvent } from './run-events.js';
import { RunStatusDocument } from './run-status.js';
import { RunCommandsDocument } from './run-commands.js';
import { schemaComponents } from './schema-components.js';

const PAYLOADS = { CreateRun, RunAction, RunStatusDocument, RunCommandsDocument, RunEvent, EngineStatus, HardwareReply, HardwareRequest, HardwareState };
const schema = (name: keyof typeof PAYLOADS) => ({ $ref: `#/components/schemas/${name}` });

const runId = { runId: { description: 'The run id: 1-128 characters, no +, #, / or control characters, not starting with $.' } };
const deviceId = { deviceId: { description: 'The device id (same rules as run ids).' } };
const engineId = { engineId: { description: 'The engine id (same rules as run ids).' } };
const gatewayId = { gatewayId: { description: 'The HTTP gateway id, GATEWAY_ID (same rules as run ids).' } };
const message = (name: string, summary: string, payload: unknown) => ({ name, summary, contentType: 'application/json', payload });

export function asyncApiDocument(version: string) {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'labrun',
      version,
      description: 'Run lab-automation protocols on motion hardware and control each run over MQTT 3.1.1. See docs/mqtt-contract.md.',
    },
    defaultContentType: 'application/json',
    servers: { local: { host: '127.0.0.1:1883', protocol: 'mqtt', protocolVersion: '3.1.1' } },
    channels: {
      runCreate: { address: 'run/{runId}/create', parameters: runId, messages: { create: message('create', 'Create a run (not retained).', schema('CreateRun')) } },
      runActions: {
        address: 'run/{runId}/actions',
        parameters: runId,
        messages: {
          action: message('action', 'Act on a run: a JSON action, or the bare word (not retained).', { oneOf: [schema('RunAction'), { type: 'string', enum: [...ACTION_TYPES] }] }),
        },
      },
      runStatus: { address: 'run/{runId}/status', parameters: runId, messages: { status: message('status', 'The run status document (retained).', schema('RunStatusDocument')) } },
      runCommands: {
        address: 'run/{runId}/commands',
        parameters: runId,
        messages: { commands: message('commands', 'Every command of the run and how it went (retained, coalesced).', schema('RunCommandsDocument')) },
      },
      runEvents: { address: 'run/{runId}/events', parameters: runId, messages: { event: message('event', 'One run event.', schema('RunEvent')) } },
      engineOnline: { address: 'engine/{engineId}/online', parameters: engineId, messages: { online: message('online', '`true`, or `false` as the last will (retained).', { type: 'boolean' }) } },
      engineStatus: {
        address: 'engine/{engineId}/status',
        parameters: engineId,
        messages: { status: message('status', 'The devices the engine serves, whether it can journal, and its runs (retained).', schema('EngineStatus')) },
      },
      gatewayOnline: {
        address: 'gateway/{gatewayId}/online',
        parameters: gatewayId,
        messages: { online: message('online', 'The HTTP gateway: `true`, or `false` when it stops or as its last will (retained).', { type: 'boolean' }) },
      },
      deviceCurrent: {
        address: 'device/{deviceId}/current',
        parameters: deviceId,
        messages: { status: message('status', "The status document of the device's current run (retained): the run on it now, or the last one.", schema('RunStatusDocument')) },
      },
      engineReplies: { address: 'engine/{engineId}/replies', parameters: engineId, messages: { reply: message('reply', 'A hardware reply.', schema('HardwareReply')) } },
      hwRequests: { address: 'hw/{deviceId}/requests', parameters: deviceId, messages: { request: message('request', 'A request to a hardware service.', schema('HardwareRequest')) } },
      hwState: { address: 'hw/{deviceId}/state', parameters: deviceId, messages: { state: message('state', 'The hardware state (retained).', schema('HardwareState')) } },
      hwOnline: { address: 'hw/{deviceId}/online', parameters: deviceId, messages: { online: message('online', '`true`, or `false` as the last will (retained).', { type: 'boolean' }) } },
      haAction: {
        address: 'labrun/ha/{deviceId}/action',
        parameters: deviceId,
        messages: {
          press: message('press', "A Home Assistant button press (not retained): the bridge acts on the device's current run.", { type: 'string', enum: ['resume', 'pause', 'stop'] }),
        },
      },
      haEngine: {
        address: 'labrun/ha/{deviceId}/engine',
        parameters: deviceId,
        messages: { served: message('served', 'Whether an online engine serves the device (retained; Home Assistant availability).', { type: 'boolean' }) },
      },
      haOnline: {
        address: 'labrun/ha/online',
        messages: { online: message('online', 'The Home Assistant bridge: `true`, or `false` as its last will (retained).', { type: 'boolean' }) },
      },
    },
    operations: {
      createRun: { action: 'send', channel: { $ref: '#/channels/runCreate' } },
      actOnRun: { action: 'send', channel: { $ref: '#/channels/runActions' } },
      watchStatus: { action: 'receive', channel: { $ref: '#/channels/runStatus' } },
      watchEvents: { action: 'receive', channel: { $ref: '#/channels/runEvents' } },
      watchCommands: { action: 'receive', channel: { $ref: '#/channels/runCommands' } },
      watchEngines: { action: 'receive', channel: { $ref: '#/channels/engineOnline' } },
      watchEngineStatus: { action: 'receive', channel: { $ref: '#/channels/engineStatus' } },
      watchGateways: { action: 'receive', channel: { $ref: '#/channels/gatewayOnline' } },
      watchDevice: { action: 'receive', channel: { $ref: '#/channels/deviceCurrent' } },
      requestHardware: { action: 'send', channel: { $ref: '#/channels/hwRequests' } },
      replyToEngine: { action: 'send', channel: { $ref: '#/channels/engineReplies' } },
      watchHardware: { action: 'receive', channel: { $ref: '#/channels/hwState' } },
      watchHardwareOnline: { action: 'receive', channel: { $ref: '#/channels/hwOnline' } },
      pressHomeAssistantButton: { action: 'send', channel: { $ref: '#/channels/haAction' } },
      watchHomeAssistantDevice: { action: 'receive', channel: { $ref: '#/channels/haEngine' } },
      watchHomeAssistantBridge: { action: 'receive', channel: { $ref: '#/channels/haOnline' } },
    },
    components: { schemas: schemaComponents(PAYLOADS, '#/components/schemas/') },
  };
}
