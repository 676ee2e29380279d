// Labware positions end to end: the broker, the engine and the hardware service on its built-in GRBL simulator,
// driven over plain MQTT. A protocol declares a plate and moves to plate1/B2 (rising to its travel height first),
// then by a relative offset: each command's result is where the well is. A well the plate does not have is refused
// at create, naming the command and the wells there are, and nothing runs.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { connectTestClient, startBroker, startService, stopAll, type BrokerProcess, type TestClient } from '@labrun/testkit';

describe('labware positions on the simulator, over MQTT', () => {
  let broker: BrokerProcess;
  let client: TestClient;
  const deviceId = `sim-labware-${randomUUID().slice(0, 6)}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-labware-'));
  // 5.2 + 9.09 is 14.290000000000001 in floating point: the well is sent, and reached, at 14.29.
  const labware = { plate1: { origin: { x: 5.2, y: 10, z: 15 }, rows: 8, columns: 12, spacing: { x: 9.09, y: 9 } } };

  beforeAll(async () => {
    broker = await startBroker();
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'e-labware', DEVICE_ID: deviceId, LABRUN_DATA_DIR: dataDir });
    await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: deviceId });
    client = await connectTestClient(broker.url);
    await client.subscribe(`hw/${deviceId}/state`);
    await client.waitFor(`hw/${deviceId}/state`, (m) => m.text !== '' && m.json().connected === true, 20_000);
  });

  afterAll(async () => {
    await client?.close();
    await stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function create(commands: unknown[], play = true): Promise<string> {
    const runId = `labware-${randomUUID().slice(0, 8)}`;
    await client.subscribe([`run/${runId}/status`, `run/${runId}/events`, `run/${runId}/commands`]);
    await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name: 'labware' }, labware, travelHeight: 40, commands }, deviceId });
    if (play) await client.publish(`run/${runId}/actions`, 'play');
    return runId;
  }
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
