// Property-based fuzzing of every inbound decoder: whatever bytes arrive, decoding never throws, and anything
// accepted is exactly what the schema allows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RunAction } from './actions.js';
import { CreateRun, decodeCreateRun } from './create.js';
import { HardwareReply, HardwareState } from './hardware.js';
import { HARDWARE_LIMITS, decodeAction, decodeJson, decodePayload } from './payload.js';
import { parseHwTopic, parseRunTopic, topics } from './topics.js';

const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

// JSON-ish values, sprinkled with the keys and shapes that attack parsers: __proto__, constructor, deep nesting.
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue(),
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'type', 'id', 'protocol', 'commands', 'params'), tie('value')),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
})).value;

const actionish = fc.record(
  {
    type: fc.oneof(fc.constantFrom('play', 'pause', 'resume', 'stop', 'skip-delay'), fc.string()),
    id: fc.oneof(fc.string({ maxLength: 200 }), fc.integer()),
    by: fc.string(),
    message: fc.string(),
    mode: fc.oneof(fc.constantFrom('immediate', 'deferred'), fc.string()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('decoders under fuzzing', () => {
  it('decodeAction never throws on any bytes, and accepts only valid actions', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 10_000 }), actionish.map(encode), hostileJson.map(encode), fc.string().map(encode)), (bytes) => {
        const decoded = decodeAction(bytes);
        if (decoded.ok) expect(RunAction.safeParse(decoded.value).success).toBe(true);
        else expect(decoded.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('decoding a create request never throws, and accepts only valid documents', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 5000 }),
          hostileJson.map(encode),
          hostileJson.map((commands) => encode({ protocol: { schemaVersion: 1, metadata: { name: 'x' }, commands } })),
        ),
        (bytes) => {
          // As the engine reads a create (decodeCreateRun), so its hint for an unwrapped protocol is fuzzed too.
          const decoded = decodeCreateRun(bytes);
          if (decoded.ok) expect(CreateRun.safeParse(decoded.value).success).toBe(true);
          else expect(typeof decoded.error).toBe('string');
        },
      ),
      { numRuns: 2000 },
    );
    // 5 s on an idle 2-core machine; the timeout is about hangs, not speed.
  }, 60_000);

  it('hardware replies and states decode without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), hostileJson.map(encode)), (bytes) => {
        expect(() => decodePayload(HardwareReply, bytes, HARDWARE_LIMITS)).not.toThrow();
        expect(() => decodePayload(HardwareState, bytes, HARDWARE_LIMITS)).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses any payload with a __proto__ key, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat({ max: 5 }), (inner, depth) => {
        let text = `{"__proto__": ${JSON.stringify(inner)}}`;
        for (let i = 0; i < depth; i++) text = `{"a": [${text}]}`;
        expect(decodeJson(encode(text), { maxBytes: 1e6, maxDepth: 64 })).toEqual({ ok: false, error: 'payload contains a "__proto__" key' });
      }),
    );
  });

  it('parses any topic without throwing; what it accepts round-trips and carries no wildcard', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((id) => `run/${id}/actions`),
          fc.string().map((id) => `hw/${id}/state`),
        ),
        (topic) => {
          const run = parseRunTopic(topic);
          if (run.ok) {
            expect(topics.run(run.value.runId, run.value.kind)).toBe(topic);
            expect(run.value.runId).not.toMatch(/[+#/\u0000-\u001f]/);
          }
          const hw = parseHwTopic(topic);
          if (hw.ok) expect(topics.hw(hw.value.deviceId, hw.value.kind)).toBe(topic);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
