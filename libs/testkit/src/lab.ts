// The stack `npm start` runs, for end-to-end tests: labrun's broker, an engine, and a hardware service on its
// built-in GRBL simulator, with a client that creates runs on that device and watches them.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBroker, startService, stopAll, type BrokerProcess } from './processes.js';
import { connectTestClient, type TestClient } from './mqtt-client.js';

export interface SimulatedLab {
  broker: BrokerProcess;
  client: TestClient;
  deviceId: string;
  /** Create a run of these commands on the lab's device (and play it, unless `play: false`); its topics are watched. */
  create(commands: unknown[], options?: { play?: boolean; protocol?: Record<string, unknown> }): Promise<string>;
  /** Close the client, stop every process, remove the engine's journal. */
  close(): Promise<void>;
}

export async function startSimulatedLab(name: string): Promise<SimulatedLab> {
  const deviceId = `sim-${name}-${randomUUID().slice(0, 6)}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `labrun-${name}-`));
  const broker = await startBroker();
  await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: `e-${name}`, DEVICE_ID: deviceId, LABRUN_DATA_DIR: dataDir });
  await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: deviceId });
  const client = await connectTestClient(broker.url);
  await client.subscribe(`hw/${deviceId}/state`);
  // The simulator connects just after the service has started: runs wait for it.
  await client.waitFor(`hw/${deviceId}/state`, (m) => m.text !== '' && m.json().connected === true, 20_000);
  return {
    broker,
    client,
    deviceId,
    async create(commands, { play = true, protocol = {} } = {}) {
      const runId = `${name}-${randomUUID().slice(0, 8)}`;
      await client.subscribe([`run/${runId}/status`, `run/${runId}/events`, `run/${runId}/commands`]);
      await client.publish(`run/${runId}/create`, { protocol: { schemaVersion: 1, metadata: { name }, ...protocol, commands }, deviceId });
      if (play) await client.publish(`run/${runId}/actions`, 'play');
      return runId;
    },
    async close() {
      await client.close();
      await stopAll();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
