// Hostile input on every topic the engine reads: run/+/create, run/+/actions, hw/+/online, hw/+/state and its
// replies topic. Each bad payload gets a readable rejection (or, where no one can be answered, a log line); the
// run it aimed at is unchanged, and the engine keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll, type ServiceProcess, type TestClient } from '@labrun/testkit';

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
// What is sent, the reason an action is refused, and the reason a create is refused.
const hostile: Array<[string, string | Buffer, RegExp, RegExp]> = [
  ['not JSON', '{"type": "resume"', /not valid JSON/, /not valid JSON/],
  ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/, /not valid UTF-8/],
  // 10 kB: over the 8 KiB action limit; a create may be larger, so it is refused for its shape.
  ['too large', JSON.stringify({ type: 'resume', message: 'x'.repeat(10_000) }), /bytes; the limit is 8192/, /protocol/],
  ['too deep', `{"type": "resume", "message": ${deep(2000)}}`, /nested deeper than 8/, /nested deeper than 16/],
  ['a __proto__ key', '{"type": "resume", "__proto__": {"polluted": true}}', /__proto__/, /__proto__/],
  ['an unknown action or command', '{"type": "launch", "protocol": {"schemaVersion": 1, "metadata": {"name": "x"}, "commands": [{"type": "launch"}]}}', /unknown action/, /unknown command type/],
  ['the wrong shape', '{"type": ["resume"]}', /type/, /protocol/],
  ['an empty payload', '', /unknown action/, /not valid JSON/],
];

describe('the engine under hostile input', () => {
  let client: TestClient;
  let engine: ServiceProcess;
  let status: RunStatusDocument;

  beforeAll(async () => {
    const broker = await startBroker();
    engine = await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'e-hostile', DEVICE_ID: 'sim-hostile' });
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: 'sim-hostile' });
    client = await connectTestClient(broker.url);
    await client.subscribe(['run/target/status', 'run/target/events', 'run/+/events']);
    await client.publish('run/target/create', { protocol: { schemaVersion: 1, metadata: { name: 'target' }, commands: [{ type: 'pause', params: { message: 'hold here' } }] } });
    await client.publish('run/target/actions', 'play');
    status = (await client.waitFor('run/target/status', (m) => m.json().status === 'paused')).json();
  });
  afterAll(async () => {
    await client?.close();
    await stopAll();
  });

  it.each(hostile)('answers %s on run/<id>/actions with a readable rejection and changes nothing', async (_what, payload, reason) => {
    const before = client.messages('run/target/events').length;
    await client.publish('run/target/actions', payload);
    const rejected = (await client.waitFor('run/target/events', (m) => m.json().type === 'action.rejected' && client.messages('run/target/events').indexOf(m) >= before)).json();
    expect(rejected).toMatchObject({ code: 'invalid-action', message: expect.stringMatching(reason) });
    expect(rejected.message).toMatch(/^cannot act on run target: /);
  });

  it.each(hostile)('answers %s on run/<id>/create with run.rejected', async (what, payload, _actionReason, reason) => {
    const runId = `bad-create-${hostile.findIndex(([w]) => w === what)}`;
    await client.publish(`run/${runId}/create`, payload);
    const rejected = (await client.waitFor(`run/${runId}/events`, (m) => m.json().type === 'run.rejected')).json();
    expect(rejected).toMatchObject({ code: 'invalid-create', message: expect.stringMatching(reason) });
    expect(rejected.message).toMatch(new RegExp(`^cannot create run ${runId}: `));
  });

  it('ignores garbage on the hardware topics and its replies topic, with a log line', async () => {
    for (const payload of ['{', Buffer.from([0xff]), deep(3000), '{"connected": "yes"}', '{"id": 1, "ok": "maybe"}']) {
      await client.publish('hw/sim-hostile/state', payload);
      await client.publish('hw/sim-hostile/online', payload);
      await client.publish('engine/e-hostile/replies', payload);
    }
    await expect.poll(() => engine.output()).toMatch(/ignored an unreadable hardware state/);
    await expect.poll(() => engine.output()).toMatch(/ignored an unreadable hardware reply/);
    await expect.poll(() => engine.output()).toMatch(/ignored an unreadable online flag/);
  });

  it('ignores a topic whose run id has control characters (it could never be answered on a topic of its own)', async () => {
    await client.publish('run/a\u0001b/actions', 'resume');
    await expect.poll(() => engine.output()).toMatch(/not a valid run topic/);
  });

  it('leaves the run exactly as it was, and still works', async () => {
    // No status was published since the run paused: not one of the hostile payloads changed it.
    expect(client.messages('run/target/status').at(-1)!.json()).toEqual(status);
    expect(status).toMatchObject({ status: 'paused', pause: { message: 'hold here' } });
    expect(engine.proc.exitCode).toBeNull();
    await client.publish('run/target/actions', 'resume');
    await client.waitFor('run/target/status', (m) => m.json().status === 'succeeded');
  });
});
