// The payload of run/<id>/create: a protocol document and the device to run it on.
import { z } from 'zod';
import { DeviceId } from './ids.js';
import { ProtocolDocument } from './protocol.js';

export const CreateRun = z.strictObject({
  protocol: ProtocolDocument,
  deviceId: DeviceId.optional(),
});
export type CreateRun = z.infer<typeof CreateRun>;
