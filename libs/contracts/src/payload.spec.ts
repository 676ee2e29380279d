import { describe, expect, it } from 'vitest';
import { actionIdentity, CREATE_LIMITS, decodeAction, decodeJson, decodeOnlineFlag, decodePayload } from './payload.js';
import { CreateRun, decodeCreateRun } from './create.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('decodeAction', () => {
  it.each(['play', 'pause', 'resume', 'stop', 'skip-delay'])('accepts the bare word %s', (word) => {
    expect(decodeAction(bytes(word))).toEqual({ ok: true, value: { type: word } });
  });

  it('accepts a bare word with the trailing newline a shell adds, and a quoted word', () => {
    expect(decodeAction(bytes('resume\n'))).toEqual({ ok: true, value: { type: 'resume' } });
    expect(decodeAction(bytes('"resume"'))).toEqual({ ok: true, value: { type: 'resume' } });
  });

  it('accepts a JSON action with id, by, message and mode', () => {
    const action = { type: 'pause', id: 'a-1', by: 'ana', message: 'checking', mode: 'deferred' };
    expect(decodeAction(bytes(JSON.stringify(action)))).toEqual({ ok: true, value: action });
  });

  it.each([
    ['launch', 'unknown action "launch"'],
    ['{"type":"launch"}', 'unknown action: expected one of play, pause, resume, stop, skip-delay'],
    ['{"type":"resume","extra":1}', 'Unrecognized key'],
    ['{"type":"resume","mode":"immediate"}', 'mode is only valid for a pause action'],
    ['{"type":', 'not valid JSON'],
    ['{"type":"resume","__proto__":{"x":1}}', '"__proto__"'],
  ])('rejects %j saying %j', (payload, reason) => {
    const decoded = decodeAction(bytes(payload));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toContain(reason);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(decodeAction(new Uint8Array([0x72, 0xff, 0xfe]))).toEqual({ ok: false, error: 'payload is not valid UTF-8' });
  });

  it('rejects an oversized action without parsing it', () => {
    const decoded = decodeAction(bytes(JSON.stringify({ type: 'resume', message: 'x'.repeat(9000) })));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toMatch(/bytes; the limit is 8192/);
  });
});

describe('decodeOnlineFlag', () => {
  it('reads true, false and a cleared flag; anything else is an error', () => {
    const flag = (text: string) => decodeOnlineFlag(Buffer.from(text));
    expect([flag('true'), flag(' false\n'), flag('')]).toEqual([
      { ok: true, value: true },
      { ok: true, value: false },
      { ok: true, value: null },
    ]);
    for (const text of ['yes', '"true"', '1', '{}', 'true'.padEnd(17)]) expect([text, flag(text)]).toEqual([text, { ok: false, error: 'expected true or false' }]);
  });
});

describe('decodeJson', () => {
  it('rejects nesting deeper than the limit without overflowing the stack', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const decoded = decodeJson(bytes(deep), { maxBytes: 1e6, maxDepth: 16 });
    expect(decoded).toEqual({ ok: false, error: 'payload is nested deeper than 16 levels' });
  });
});

describe('CreateRun', () => {
  const protocol = {
    schemaVersion: 1,
    metadata: { name: 'Serial dilution' },
    commands: [
      { type: 'home' },
      { type: 'move', params: { x: 10, y: 20, z: 5, feed: 3000 } },
      { type: 'pause', params: { message: 'Check the samples' } },
      { type: 'delay', params: { seconds: 30, message: 'Incubate' } },
      { type: 'comment', params: { message: 'Done' } },
      { type: 'set-output', params: { output: 'pump', value: 0.5 } },
    ],
  };

  it('accepts the architecture example, with a set-output', () => {
    expect(decodePayload(CreateRun, bytes(JSON.stringify({ protocol, deviceId: 'sim-1' })), CREATE_LIMITS).ok).toBe(true);
  });

  it.each([
    [{ type: 'teleport' }, 'unknown command type'],
    [{ type: 'move', params: { feed: 100 } }, 'move needs at least one of x, y, z'],
    [{ type: 'move', params: { x: 'ten' } }, 'x must be a number'],
    // GRBL reads 3 decimals and no exponent: 0.0004 would go out as F0 (error:22), 1e21 as `1e+21` (error:20).
    [{ type: 'move', params: { x: 1, feed: 0.0004 } }, 'feed must be at least 0.001 mm/min (G-code carries 3 decimals)'],
    [{ type: 'move', params: { x: 1, feed: 1e21 } }, 'feed must be at most 1000000 mm/min'],
    [{ type: 'move', params: { x: 1e21 } }, 'x must be between -100000 and 100000 mm'],
    [{ type: 'move', params: { z: -100000.5 } }, 'z must be between -100000 and 100000 mm'],
    [{ type: 'delay', params: { seconds: -1 } }, 'seconds must be greater than 0'],
    [{ type: 'comment' }, 'commands[0].params'],
    [{ type: 'set-output' }, 'set-output needs params: { "output": "pump", "value": 0.5 }'],
    [{ type: 'set-output', params: { output: 'pump' } }, 'value must be a number'],
    [{ type: 'set-output', params: { output: 'pump', value: 50 } }, 'value must be from 0 (off) to 1 (fully on), such as 0.5'],
    [{ type: 'set-output', params: { output: 'pump', value: -0.1 } }, 'value must be from 0 (off) to 1 (fully on)'],
    [{ type: 'set-output', params: { output: 'Pump 1', value: 1 } }, 'output must be 1-64 characters of a-z, 0-9, _ and -, such as "pump"'],
    [{ type: 'set-output', params: { output: 'p'.repeat(65), value: 1 } }, 'output must be 1-64 characters'],
    [{ type: 'set-output', params: { output: '', value: 1 } }, 'output must be 1-64 characters'],
    [{ type: 'set-output', params: { value: 1 } }, 'output must be the name of a device output'],
    [{ type: 'set-output', params: { output: 'pump', value: 1, speed: 3 } }, 'speed'],
    [{ type: 'gcode', params: {} }, 'gcode needs "lines": a list of G-code lines'],
    [{ type: 'gcode', params: { lines: [] } }, 'gcode needs at least one line'],
    [{ type: 'gcode', params: { lines: Array.from({ length: 101 }, () => 'G4 P0') } }, 'gcode takes at most 100 lines'],
    [{ type: 'gcode', params: { lines: ['G91', 7] } }, 'each G-code line must be text'],
    [{ type: 'gcode', params: { lines: ['G91', '$H'] } }, 'G-code line 2 "$H": "$" starts a GRBL system command'],
    [{ type: 'gcode', params: { lines: ['G1 X1 F100 ?'] } }, 'G-code line 1 "G1 X1 F100 ?": "?" is GRBL\'s real-time status report command'],
    [{ type: 'gcode', params: { lines: ['G0 X1', 'G0 A1'] } }, 'G-code line 2 "G0 A1": A is not a word GRBL 1.1 reads'],
    [{ type: 'gcode', params: { lines: [`G0X${'1'.repeat(78)}`] } }, "at most 79 (GRBL's 80-byte line buffer"],
    [{ type: 'gcode', params: { lines: ['G0 X1', 'G0 X1 $'] } }, '→ at protocol.commands[0].params.lines[1]'],
    [{ type: 'probe', params: { z: -30 } }, 'probe needs a feed in mm/min'],
    [{ type: 'probe', params: { feed: 100 } }, 'probe needs at least one of x, y, z'],
    [{ type: 'probe', params: { z: 'down', feed: 100 } }, 'z must be a number'],
    [{ type: 'probe', params: { z: -30, feed: 0 } }, 'feed must be greater than 0'],
    [{ type: 'probe', params: { z: -30, feed: 100, speed: 2 } }, 'Unrecognized key'],
  ])('rejects the command %j saying %j', (command, reason) => {
    const decoded = decodePayload(CreateRun, bytes(JSON.stringify({ protocol: { ...protocol, commands: [command] } })), CREATE_LIMITS);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toContain(reason);
  });

  it.each([
    ['no metadata', { schemaVersion: 1, commands: [{ type: 'home' }] }, '✖ a protocol needs "metadata": { "name": "…" }\n  → at protocol.metadata'],
    ['metadata as text', { schemaVersion: 1, metadata: 'x', commands: [{ type: 'home' }] }, '✖ metadata must be an object like { "name": "Serial dilution" }\n  → at protocol.metadata'],
    ['metadata without a name', { schemaVersion: 1, metadata: {}, commands: [{ type: 'home' }] }, '✖ metadata needs a "name"'],
    ['no commands', { schemaVersion: 1, metadata: { name: 'x' } }, '✖ a protocol needs "commands": a list of commands'],
    ['no schemaVersion', { metadata: { name: 'x' }, commands: [{ type: 'home' }] }, '✖ a protocol needs "schemaVersion": 1'],
    ['a list for a protocol', [], '✖ a protocol document is a JSON object'],
  ])('says in the protocol’s words what is missing: %s', (_, document, message) => {
    const decoded = decodeCreateRun(bytes(JSON.stringify({ protocol: document })));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toContain(message);
    if (!decoded.ok) expect(decoded.error).not.toMatch(/expected (object|array), received/);
  });

  it('accepts a gcode block and a probe', () => {
    const commands = [
      { type: 'gcode', params: { lines: ['G91', 'G1 Z-2 F300 (lower the tip)', 'G90'] } },
      { type: 'probe', params: { z: 20, feed: 100 } },
    ];
    expect(decodePayload(CreateRun, bytes(JSON.stringify({ protocol: { ...protocol, commands } })), CREATE_LIMITS)).toMatchObject({ ok: true });
  });

  it('answers a protocol document sent as a create request with how to wrap it', () => {
    const decoded = decodeCreateRun(bytes(JSON.stringify(protocol)));
    expect(decoded).toEqual({
      ok: false,
      error: 'this is a protocol document, not a create request: send { "protocol": <the document>, "deviceId"?: "…" } (examples/serial-dilution.create.json is one)',
    });
    expect(decodeCreateRun(bytes(JSON.stringify({ protocol }))).ok).toBe(true);
  });

  it('rejects a device id with a wildcard', () => {
    const decoded = decodePayload(CreateRun, bytes(JSON.stringify({ protocol, deviceId: 'sim/#' })), CREATE_LIMITS);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toContain('device id must not contain');
  });
});

describe('actionIdentity', () => {
  it.each([
    ['resume', { id: undefined, type: 'resume' }],
    ['{"type":"pause","id":"a-1"}', { id: 'a-1', type: 'pause' }],
    ['{"type":"teleport","id":"a-2"}', { id: 'a-2', type: 'teleport' }],
    ['{"type":7,"id":""}', { id: undefined, type: null }],
    [`{"id":"${'x'.repeat(129)}"}`, { id: undefined, type: null }],
    ['not json', { id: undefined, type: null }],
  ])('reads %s as far as it can', (payload, identity) => {
    expect(actionIdentity(bytes(payload))).toEqual(identity);
  });
});
