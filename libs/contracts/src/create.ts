// The payload of run/<id>/create: a protocol document and the device to run it on.
import { z } from 'zod';
import { DeviceId } from './ids.js';
import { CREATE_LIMITS, decodeJson, validate } from './payload.js';
import { ProtocolDocument } from './protocol.js';
import { ErrorRecoveryPolicy } from './error-recovery.js';
import { fail, type Result } from './result.js';

export const CreateRun = z.strictObject({
  protocol: ProtocolDocument,
  deviceId: DeviceId.optional(),
  /** What happens when a command fails: by default the run waits for the operator (`awaiting-recovery`). */
  errorRecovery: ErrorRecoveryPolicy.optional(),
});
export type CreateRun = z.infer<typeof CreateRun>;

/**
 * A create payload, read as the engine reads it. A protocol document sent as it is (the commonest mistake:
 * `mosquitto_pub -f protocol.json`) is answered with how to wrap it, not with zod's words about a missing key.
 */
export function decodeCreateRun(payload: Uint8Array): Result<CreateRun> {
  const json = decodeJson(payload, CREATE_LIMITS);
  if (!json.ok) return json;
  const value = json.value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('protocol' in value) && ('commands' in value || 'schemaVersion' in value)) {
    return fail('this is a protocol document, not a create request: send { "protocol": <the document>, "deviceId"?: "…" } (examples/serial-dilution.create.json is one)');
  }
  return validate(CreateRun, value);
}
