// The gcode and probe commands end to end: the broker, the engine and the hardware service on its built-in GRBL
// simulator (whose probe touches a surface at deck Z 20), driven over plain MQTT. A protocol homes, runs a G-code
// block and probes: the probe's result is where it touched. A probe that touches nothing waits in
// awaiting-recovery; unlock and skip go on. A bad block or probe is refused at create, and nothing runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { startSimulatedLab, type SimulatedLab, type TestClient } from '@labrun/testkit';

describe('gcode and probe on the simulator, over MQTT', () => {
  let lab: SimulatedLab;
  let client: TestClient;

  beforeAll(async () => {
    lab = await startSimulatedLab('probe');
    ({ client } = lab);
  });

  afterAll(() => lab?.close());

  const create = (commands: unknown[], play = true) => lab.create(commands, { play });
  const status = async (runId: string, predicate: (s: RunStatusDocument) => boolean, since = 0, timeoutMs = 30_000): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && client.received.indexOf(m) >= since && predicate(m.json()), timeoutMs)).json();
  const events = (runId: string): RunEvent[] => client.messages(`run/${runId}/events`).map((m) => m.json());
  const commandsWhere = async (runId: string, predicate: (d: RunCommandsDocument) => boolean) =>
    (await client.waitFor(`run/${runId}/commands`, (m) => m.text !== '' && predicate(m.json()), 10_000)).json() as RunCommandsDocument;

  it('home, a G-code block, then a probe: succeeds with where the probe touched as its result', async () => {
    const runId = await create([
      { type: 'home' },
      { type: 'gcode', params: { lines: ['G91', 'G1 Z50 F6000 (up, clear of the surface)', 'G1 X10 Y10', 'G90'] } },
      { type: 'probe', params: { z: 0, feed: 600 } },
    ]);
    await status(runId, (s) => s.status === 'succeeded');
    const touched = { position: { x: 10, y: 10, z: 20 }, machinePosition: { x: -289, y: -289, z: -79 } };
    const document = await commandsWhere(runId, (d) => d.commands[2]!.status === 'succeeded');
    expect(document.commands[1]).toMatchObject({ status: 'succeeded', result: { position: { x: 10, y: 10, z: 50 } } });
    expect(document.commands[2]).toMatchObject({ command: { type: 'probe', params: { z: 0, feed: 600 } }, status: 'succeeded', error: null, result: touched });
    expect(events(runId).find((e) => e.type === 'command.succeeded' && e.index === 2)).toMatchObject({ result: touched });
  });

  it('a probe that touches nothing waits in awaiting-recovery (probe-no-contact); unlock, then skip, goes on', async () => {
    const runId = await create([{ type: 'home' }, { type: 'move', params: { z: 50, feed: 6000 } }, { type: 'probe', params: { z: 30, feed: 3000 } }, { type: 'move', params: { z: 60, feed: 6000 } }]);
    const waiting = await status(runId, (s) => s.status === 'awaiting-recovery');
    expect(waiting).toMatchObject({
      current: { index: 2, type: 'probe' },
      error: {
        code: 'probe-no-contact',
        commandIndex: 2,
        message: expect.stringMatching(/^the probe touched nothing on its way to Z 30: ALARM:5 .* Position kept; GRBL is in alarm until unlocked: unlock, then retry or skip the probe/),
      },
      pause: { source: 'error' },
      recovery: { attempt: 1, needsHome: false },
    });
    expect(waiting.error).not.toHaveProperty('positionLost');
    expect(waiting.allowedActions).toEqual(expect.arrayContaining(['retry', 'skip', 'unlock', 'stop']));

    const mark = client.received.length;
    await client.publish(`run/${runId}/actions`, 'unlock');
    await status(runId, (s) => s.recovery?.fixit?.ok === true, mark);
    await client.publish(`run/${runId}/actions`, { type: 'skip', by: 'ana' });
    await status(runId, (s) => s.status === 'succeeded');
    const document = await commandsWhere(runId, (d) => d.commands[3]!.status === 'succeeded');
    expect(document.commands[2]).toMatchObject({ status: 'skipped', skippedBy: 'ana', error: { code: 'probe-no-contact' } });
    expect(document.commands[3]).toMatchObject({ status: 'succeeded', result: { position: { z: 60 } } });
  });

  it.each([
    ['a block with a $ command', { type: 'gcode', params: { lines: ['G91', '$H'] } }, 'G-code line 2 "$H": "$" starts a GRBL system command'],
    ['a probe without a feed', { type: 'probe', params: { z: 0 } }, 'probe needs a feed in mm/min'],
  ])('refuses %s at create, naming what is wrong, and runs nothing', async (_, command, reason) => {
    const runId = await create([{ type: 'home' }, command], false);
    const rejected = (await client.waitFor(`run/${runId}/events`, () => true)).json() as RunEvent;
    expect(rejected).toMatchObject({ type: 'run.rejected', code: 'invalid-create', message: expect.stringContaining(reason) });
    await client.publish(`run/${runId}/actions`, { type: 'play', id: 'go' });
    const answer = (await client.waitFor(`run/${runId}/events`, (m) => m.json().actionId === 'go')).json() as RunEvent;
    expect(answer).toMatchObject({ type: 'action.rejected', code: 'unknown-run' }); // refused at create: there is no run to play
    expect(events(runId).some((e) => e.type === 'command.started')).toBe(false);
  });
});
