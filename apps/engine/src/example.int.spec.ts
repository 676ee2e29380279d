// The example a lab user starts from (examples/with-plate-reader.json) runs as `npm start` runs it: the broker, the
// engine and the hardware service on its built-in simulator, with a stand-in plate reader made of an MQTT client.
// It dispenses with the pump into three wells, waits for the reader's answer, and ends with the pump off.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { HardwareState, RunCommandsDocument, RunStatusDocument } from '@labrun/contracts';
import { startSimulatedLab, stopAll } from '@labrun/testkit';

const example = JSON.parse(fs.readFileSync(new URL('../../../examples/with-plate-reader.json', import.meta.url), 'utf8'));

describe('examples/with-plate-reader.json', () => {
  afterAll(stopAll);

  it('dispenses into three wells, hands the plate to the reader, and succeeds with its reading; the pump ends off', async () => {
    const lab = await startSimulatedLab('example');
    const { client, deviceId } = lab;
    await client.subscribe(['lab/reader/request']);
    const runId = await lab.create(example.commands, { protocol: example });

    const pumping = await client.waitFor(`hw/${deviceId}/state`, (m) => (m.json() as HardwareState).outputs?.pump === 0.5, 30_000);
    expect((pumping.json() as HardwareState).outputs).toMatchObject({ pump: 0.5 });
    const request = await client.waitFor('lab/reader/request', () => true, 60_000);
    expect(request.json()).toEqual({ plate: 'plate1', wells: ['A1', 'A2', 'A3'], wavelengthNm: 450 });
    const waiting = (await client.waitFor(`run/${runId}/status`, (m) => (m.json() as RunStatusDocument).pause?.source === 'external')).json() as RunStatusDocument;
    expect(waiting.pause).toMatchObject({ message: 'waiting for the plate reader' });
    await client.publish('lab/reader/result', { status: 'done', od450: [0.12, 0.48, 0.51] });
    await client.waitFor(`run/${runId}/status`, (m) => (m.json() as RunStatusDocument).status === 'succeeded', 60_000);
    const commands = (await client.waitFor(`run/${runId}/commands`, (m) => (m.json() as RunCommandsDocument).commands.every((c) => c.status === 'succeeded'))).json() as RunCommandsDocument;
    expect(commands.commands.find((c) => c.command.type === 'wait-for')).toMatchObject({ result: { topic: 'lab/reader/result', payload: { status: 'done', od450: [0.12, 0.48, 0.51] } } });
    expect(commands.commands[1]).toMatchObject({ result: { position: { x: 20, y: 30, z: 10 } } });
    const last = client.messages(`hw/${deviceId}/state`).at(-1)!.json() as HardwareState;
    expect(last.outputs?.pump).toBe(0);
    await lab.close();
  }, 120_000);
});
