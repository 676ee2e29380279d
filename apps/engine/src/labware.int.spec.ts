// Labware positions end to end: the broker, the engine and the hardware service on its built-in GRBL simulator,
// driven over plain MQTT. A protocol declares a plate and moves to plate1/B2 (rising to its travel height first),
// then by a relative offset: each command's result is where the well is. A well the plate does not have is refused
// at create, naming the command and the wells there are, and nothing runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { startSimulatedLab, type SimulatedLab, type TestClient } from '@labrun/testkit';

describe('labware positions on the simulator, over MQTT', () => {
  // 5.2 + 9.09 is 14.290000000000001 in floating point: the well is sent, and reached, at 14.29.
  const labware = { plate1: { origin: { x: 5.2, y: 10, z: 15 }, rows: 8, columns: 12, spacing: { x: 9.09, y: 9 } } };
  let lab: SimulatedLab;
  let client: TestClient;

  beforeAll(async () => {
    lab = await startSimulatedLab('labware');
    ({ client } = lab);
  });

  afterAll(() => lab?.close());

  const create = (commands: unknown[], play = true) => lab.create(commands, { play, protocol: { labware, travelHeight: 40 } });
  const status = async (runId: string, predicate: (s: RunStatusDocument) => boolean): Promise<RunStatusDocument> =>
    (await client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && predicate(m.json()), 30_000)).json();
  const commandsWhere = async (runId: string, predicate: (d: RunCommandsDocument) => boolean) =>
    (await client.waitFor(`run/${runId}/commands`, (m) => m.text !== '' && predicate(m.json()), 10_000)).json() as RunCommandsDocument;

  it('moves to plate1/B2 and by an offset from it: each result is the position of the well, rounded as GRBL reads it', async () => {
    const runId = await create([{ type: 'home' }, { type: 'move', params: { to: 'plate1/B2', feed: 6000 } }, { type: 'move', params: { z: -10, relative: true } }]);
    await status(runId, (s) => s.status === 'succeeded');
    const document = await commandsWhere(runId, (d) => d.commands[2]!.status === 'succeeded');
    expect(document.commands[1]).toMatchObject({ command: { type: 'move', params: { to: 'plate1/B2' } }, status: 'succeeded', result: { position: { x: 14.29, y: 19, z: 15 } } });
    expect(document.commands[2]).toMatchObject({ status: 'succeeded', result: { position: { x: 14.29, y: 19, z: 5 } } });
  });

  it('refuses a well the plate does not have at create, naming the command and its wells, and runs nothing', async () => {
    const runId = await create([{ type: 'home' }, { type: 'move', params: { to: 'plate1/I13' } }], false);
    const rejected = (await client.waitFor(`run/${runId}/events`, () => true)).json() as RunEvent;
    expect(rejected).toMatchObject({
      type: 'run.rejected',
      code: 'invalid-create',
      message: expect.stringContaining("command 2 (move) names plate1/I13, outside plate1's 8 × 12 grid: its wells are A1 to H12"),
    });
  });
});
