// The engine's MQTT hardware port without a broker: what it publishes, and how replies and a device going away
// settle a command — with the device's state, or with a failure carrying the reply's code and positionLost.
import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { HardwareState } from '@labrun/contracts';
import type { Logger } from '@labrun/service';
import { MqttHardwarePort } from './hardware-port.js';

const STATE: HardwareState = { connected: true, machine: 'Idle', position: { x: 10, y: 0, z: 0 }, homed: true, door: 'closed', alarm: null, at: '2026-11-24T10:00:00.000Z' };

function port() {
  const sent: Array<{ topic: string; body: any }> = [];
  const client = { publish: (topic: string, body: string, _options: unknown, done?: (error?: Error) => void) => (sent.push({ topic, body: JSON.parse(body) }), done?.()) };
  const log = { warn() {}, info() {}, debug() {}, error() {} };
  const hardware = new MqttHardwarePort(client as unknown as MqttClient, 'e1', log as unknown as Logger, 50);
  hardware.handleOnline('sim-1', true);
  const reply = (body: object) => hardware.handleReply(Buffer.from(JSON.stringify(body)));
  return { hardware, sent, reply };
}

describe('MqttHardwarePort', () => {
  it('sends home, move and unlock as requests and resolves with the state the device answers', async () => {
    const { hardware, sent, reply } = port();
    const unlocked = hardware.perform('sim-1', { op: 'unlock' }, new AbortController().signal);
    const moved = hardware.perform('sim-1', { op: 'move', params: { x: 10, feed: 600 } }, new AbortController().signal);
    expect(sent.map((s) => [s.topic, s.body.op, s.body.params, s.body.replyTo])).toEqual([
      ['hw/sim-1/requests', 'unlock', {}, 'engine/e1/replies'],
      ['hw/sim-1/requests', 'move', { x: 10, feed: 600 }, 'engine/e1/replies'],
    ]);
    reply({ id: sent[1]!.body.id, ok: true, state: STATE });
    reply({ id: sent[0]!.body.id, ok: true, state: { ...STATE, homed: false, position: { x: 0, y: 0, z: 0 } } });
    expect(await moved).toEqual(STATE);
    expect(await unlocked).toMatchObject({ machine: 'Idle', homed: false });
  });

  it('sends set-output with its output and value as params, and rejects with unknown-output as the device answers it', async () => {
    const { hardware, sent, reply } = port();
    const pump = hardware.perform('sim-1', { op: 'set-output', output: 'pump', value: 0.5 }, new AbortController().signal);
    const heater = hardware.perform('sim-1', { op: 'set-output', output: 'heater', value: 1 }, new AbortController().signal);
    expect(sent.map((s) => [s.body.op, s.body.params])).toEqual([
      ['set-output', { output: 'pump', value: 0.5 }],
      ['set-output', { output: 'heater', value: 1 }],
    ]);
    reply({ id: sent[0]!.body.id, ok: true, state: { ...STATE, outputs: { pump: 0.5, valve: 0 } } });
    reply({ id: sent[1]!.body.id, ok: false, code: 'unknown-output', message: 'sim-1 has no output "heater": its outputs are pump, valve' });
    expect(await pump).toMatchObject({ outputs: { pump: 0.5, valve: 0 } });
    await expect(heater).rejects.toMatchObject({ code: 'unknown-output' });
  });

  it('sends gcode with its lines and probe with its target, and resolves a probe with the state that says where it touched', async () => {
    const { hardware, sent, reply } = port();
    const block = hardware.perform('sim-1', { op: 'gcode', params: { lines: ['G91', 'G1 Z-2 F300'] } }, new AbortController().signal);
    const probe = hardware.perform('sim-1', { op: 'probe', params: { z: 20, feed: 100 } }, new AbortController().signal);
    expect(sent.map((s) => [s.body.op, s.body.params])).toEqual([
      ['gcode', { lines: ['G91', 'G1 Z-2 F300'] }],
      ['probe', { z: 20, feed: 100 }],
    ]);
    const touched = { ...STATE, lastProbe: { position: { x: 10, y: 0, z: 20 }, machinePosition: { x: -289, y: -299, z: -79 }, at: STATE.at } };
    reply({ id: sent[0]!.body.id, ok: true, state: STATE });
    reply({ id: sent[1]!.body.id, ok: true, state: touched });
    expect(await block).toEqual(STATE);
    expect(await probe).toEqual(touched);
  });

  it("rejects with the reply's code and message, and positionLost when the reply says so", async () => {
    const { hardware, sent, reply } = port();
    const limit = hardware.perform('sim-1', { op: 'move', params: { x: 400 } }, new AbortController().signal);
    const refused = hardware.perform('sim-1', { op: 'move', params: { x: 1 } }, new AbortController().signal);
    reply({ id: sent[0]!.body.id, ok: false, code: 'alarm', message: 'ALARM:1 Hard limit triggered. …', positionLost: true });
    reply({ id: sent[1]!.body.id, ok: false, code: 'not-homed', message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1): home the machine, then retry' });
    await expect(limit).rejects.toMatchObject({ code: 'alarm', message: 'ALARM:1 Hard limit triggered. …', positionLost: true });
    const error = await refused.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not-homed' });
    expect(error).not.toHaveProperty('positionLost');
  });

  it('fails a command with disconnected and positionLost when the hardware service goes offline during it', async () => {
    const { hardware } = port();
    const move = hardware.perform('sim-1', { op: 'move', params: { x: 10 } }, new AbortController().signal);
    hardware.handleOnline('sim-1', false);
    await expect(move).rejects.toMatchObject({
      code: 'disconnected',
      positionLost: true,
      message: expect.stringMatching(/^the hardware service for sim-1 went offline during the command\. .*home the machine before moving again$/),
    });
  });

  it('fails a request sent while the device was offline as soon as it is back, instead of waiting for an answer nobody will give', async () => {
    const { hardware } = port();
    hardware.handleOnline('sim-1', false);
    const release = hardware.release('sim-1');
    hardware.handleOnline('sim-1', true);
    await expect(release).rejects.toMatchObject({ code: 'offline', message: expect.stringContaining('was offline when the request was sent') });
  });

  it('fails a command for a device that never came online with offline, saying which service to start', async () => {
    const { hardware } = port();
    const home = hardware.perform('sim-2', { op: 'home' }, new AbortController().signal);
    await expect(home).rejects.toMatchObject({ code: 'offline', message: expect.stringContaining('DEVICE_ID=sim-2') });
  });

  it('resolves hold and release with nothing once answered', async () => {
    const { hardware, sent, reply } = port();
    const held = hardware.hold('sim-1');
    reply({ id: sent[0]!.body.id, ok: true, state: { ...STATE, machine: 'Hold' } });
    expect(await held).toBeUndefined();
  });
});
