// Decoding inbound MQTT payloads: bytes → UTF-8 text → JSON → a schema's type, with a readable
// reason at the first step that fails. Nothing here throws on any input.
import { z } from 'zod';
import { fail, ok, type Result } from './result.js';
import { RunAction, isBareAction } from './actions.js';
import { ActionId } from './ids.js';

export interface DecodeLimits {
  /** Largest payload accepted, in bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays and objects accepted. */
  maxDepth: number;
}

export const ACTION_LIMITS: DecodeLimits = { maxBytes: 8 * 1024, maxDepth: 8 };
export const CREATE_LIMITS: DecodeLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 16 };
export const HARDWARE_LIMITS: DecodeLimits = { maxBytes: 64 * 1024, maxDepth: 8 };
const FLAG_LIMITS: DecodeLimits = { maxBytes: 16, maxDepth: 1 };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeText(payload: Uint8Array, limits: DecodeLimits): Result<string> {
  if (payload.byteLength > limits.maxBytes) return fail(`payload is ${payload.byteLength} bytes; the limit is ${limits.maxBytes}`);
  try {
    return ok(utf8.decode(payload));
  } catch {
    return fail('payload is not valid UTF-8');
  }
}

/**
 * The deepest nesting of arrays and objects in JSON text, read in one pass before parsing, so a hostile
 * payload is refused before JSON.parse (whose reviver recurses) can exhaust the stack.
 */
function nestingOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

export function decodeJson(payload: Uint8Array, limits: DecodeLimits): Result<unknown> {
  const text = decodeText(payload, limits);
  if (!text.ok) return text;
  if (nestingOf(text.value) > limits.maxDepth) return fail(`payload is nested deeper than ${limits.maxDepth} levels`);
  let value: unknown;
  try {
    // "__proto__" keys are refused outright: they mean nothing to labrun and are a classic attack on
    // code that merges objects.
    value = JSON.parse(text.value, (key, v: unknown) => {
      if (key === '__proto__') throw new ProtoKeyError();
      return v;
    });
  } catch (error) {
    if (error instanceof ProtoKeyError) return fail('payload contains a "__proto__" key');
    return fail(`payload is not valid JSON: ${(error as Error).message}`);
  }
  return ok(value);
}

class ProtoKeyError extends Error {}

/** Validate a value against a schema, with zod's readable rendering of what is wrong. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): Result<z.infer<S>> {
  const parsed = schema.safeParse(value);
  return parsed.success ? ok(parsed.data) : fail(z.prettifyError(parsed.error));
}

export function decodePayload<S extends z.ZodType>(schema: S, payload: Uint8Array, limits: DecodeLimits): Result<z.infer<S>> {
  const json = decodeJson(payload, limits);
  return json.ok ? validate(schema, json.value) : json;
}

/**
 * A run action: the bare word (`resume`, as `mosquitto_pub -m resume` sends it) or a JSON object.
 * A bare word may be quoted JSON too (`"resume"`).
 */
export function decodeAction(payload: Uint8Array): Result<RunAction> {
  const text = decodeText(payload, ACTION_LIMITS);
  if (!text.ok) return text;
  const word = text.value.trim();
  if (isBareAction(word)) return ok({ type: word });
  if (!word.startsWith('{') && !word.startsWith('"')) {
    return fail(`unknown action ${JSON.stringify(word.slice(0, 40))}: send one of play, pause, resume, stop, skip-delay, or a JSON object with "type"`);
  }
  const json = decodeJson(payload, ACTION_LIMITS);
  if (!json.ok) return json;
  if (typeof json.value === 'string') {
    return isBareAction(json.value) ? ok({ type: json.value }) : fail(`unknown action ${JSON.stringify(json.value.slice(0, 40))}`);
  }
  return validate(RunAction, json.value);
}

/**
 * The `id` and `type` of an action payload as far as they can be read, valid or not, so that whoever refuses it
 * (the engine, the broker) can name them in the rejection.
 */
export function actionIdentity(payload: Uint8Array): { id: string | undefined; type: string | null } {
  const decoded = decodeAction(payload);
  if (decoded.ok) return { id: decoded.value.id, type: decoded.value.type };
  const json = decodeJson(payload, ACTION_LIMITS);
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return { id: undefined, type: null };
  const { id, type } = json.value as Record<string, unknown>;
  return {
    id: ActionId.safeParse(id).success ? (id as string) : undefined,
    type: typeof type === 'string' && type.length <= 64 ? type : null,
  };
}

/** A retained online flag (`engine/<id>/online`, `hw/<id>/online`): `true`, `false`, or empty (cleared: null). */
export function decodeOnlineFlag(payload: Uint8Array): Result<boolean | null> {
  if (payload.byteLength === 0) return ok(null);
  const flag = decodeJson(payload, FLAG_LIMITS);
  return flag.ok && typeof flag.value === 'boolean' ? ok(flag.value) : fail('expected true or false');
}
