// Identifiers that become MQTT topic levels (run ids, device ids, engine ids).
// They must never carry wildcards or level separators, or a client could address topics it does not own.
import { z } from 'zod';

// + and # are MQTT wildcards, / separates topic levels, control characters have no business in a topic,
// and a leading $ is reserved for broker topics ($SYS).
const FORBIDDEN = /[+#/\u0000-\u001f\u007f]/;

export const topicId = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, { error: `${what} must not be empty` })
    .max(128, { error: `${what} must be at most 128 characters` })
    .refine((s) => !FORBIDDEN.test(s), {
      error: `${what} must not contain '+', '#', '/' or control characters`,
    })
    .refine((s) => !s.startsWith('$'), { error: `${what} must not start with '$'` });

export const RunId = topicId('run id');
export const DeviceId = topicId('device id');
export const EngineId = topicId('engine id');
export const ActionId = z.string().min(1).max(128);
