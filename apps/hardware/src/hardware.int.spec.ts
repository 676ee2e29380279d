// The built hardware service as a real process, talked to over MQTT as any client would: on the built-in GRBL
// simulator (SERIAL_PATH=sim), and on a serial port — the simulator as its own process behind a pty. The broker is
// Aedes in-process on an ephemeral port, so this test does not depend on apps/broker.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { appEntry, commandExists, connectTestClient, requirement, startGrblSim, startProcess, startService, stopAll, type GrblSimProcess, type ServiceProcess, type TestClient } from '@labrun/testkit';

const DEV = 'sim-int';
const TOPIC = { requests: `hw/${DEV}/requests`, state: `hw/${DEV}/state`, online: `hw/${DEV}/online` };
const REPLIES = 'test/hw/replies';

let broker: Aedes;
let server: net.Server;
let url: string;
let service: ServiceProcess;
let client: TestClient;
const clients: TestClient[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Send a request now; the returned promise is its reply. */
async function send(op: string, params?: object): Promise<any> {
  const id = randomUUID();
  const reply = client.waitFor(REPLIES, (m) => m.json().id === id, 10_000);
  await client.publish(TOPIC.requests, { id, replyTo: REPLIES, op, ...(params ? { params } : {}) });
  return reply.then((m) => m.json());
}

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  service = await startService('hardware', { MQTT_URL: url, DEVICE_ID: DEV });
  client = await connectTestClient(url);
  clients.push(client);
  await client.subscribe([REPLIES, TOPIC.state]);
});

afterAll(async () => {
  await stopAll();
  await Promise.all(clients.map((c) => c.close()));
  await new Promise<void>((resolve) => broker?.close(() => resolve()));
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('hardware service', () => {
  it('announces itself online with a retained true', async () => {
    const late = await connectTestClient(url);
    clients.push(late);
    await late.subscribe(TOPIC.online);
    const online = await late.waitFor(TOPIC.online);
    expect(online).toMatchObject({ text: 'true', retain: true });
  });

  it('answers a move when it completes, with the final position', async () => {
    await send('home');
    const reply = await send('move', { x: 12, y: 3, feed: 6000 });
    expect(reply).toMatchObject({ ok: true, state: { machine: 'Idle', position: { x: 12, y: 3, z: 0 }, homed: true } });
  });

  it('speaks protocol coordinates on the default simulated device: home reads 0,0,0, the machine stands at -299,-299,-99', async () => {
    expect(await send('home')).toMatchObject({ ok: true, state: { position: { x: 0, y: 0, z: 0 }, machinePosition: { x: -299, y: -299, z: -99 } } });
    // The far end of the travel as protocols see it: 300 × 300 × 100 mm less GRBL's 1 mm pull-off.
    const far = await send('move', { x: 299, y: 299, z: 99, feed: 10000 });
    expect(far).toMatchObject({ ok: true, state: { machine: 'Idle', alarm: null, position: { x: 299, y: 299, z: 99 }, machinePosition: { x: 0, y: 0, z: 0 } } });
    expect((await send('move', { x: 12, y: 3, z: 0, feed: 10000 })).state).toMatchObject({ position: { x: 12, y: 3, z: 0 }, machinePosition: { x: -287, y: -296, z: -99 } });
  });

  it('runs a G-code block and answers when its motion is done; a refused line is named, and nothing after it runs', async () => {
    await send('home');
    const block = await send('gcode', { lines: ['G91', 'G1 Z10 F3000', 'G1 X5', 'G90'] });
    expect(block).toMatchObject({ ok: true, state: { machine: 'Idle', position: { x: 5, y: 0, z: 10 } } });
    const refused = await send('gcode', { lines: ['G91', 'G1 Z5 F3000', 'G38.4 Z1 F100', 'G1 Z5', 'G90'] });
    expect(refused).toEqual({
      id: expect.any(String),
      ok: false,
      code: 'grbl-error',
      message:
        'GRBL refused line 3 of the G-code block, "G38.4 Z1 F100": error:20 Unsupported or invalid g-code command found in block. ' +
        'The lines before it ran and none after it was sent: check the line, then retry (the block runs again from its first line) or skip it.',
    });
    expect((await send('status')).state.position).toMatchObject({ x: 5, z: 15 }); // the Z5 before the refused line only
    expect(await send('gcode', { lines: ['G0 X1', '$H'] })).toMatchObject({ ok: false, code: 'bad-request', message: expect.stringContaining('G-code line 2 "$H"') });
  });

  it('probes down onto the simulated surface (deck Z 20): the state says where it touched; touching nothing is probe-no-contact', async () => {
    await send('home');
    await send('move', { x: 10, y: 10, z: 50, feed: 10000 });
    const from = client.received.length;
    const touched = await send('probe', { z: 0, feed: 600 });
    expect(touched).toMatchObject({
      ok: true,
      state: { machine: 'Idle', lastProbe: { position: { x: 10, y: 10, z: 20 }, machinePosition: { x: -289, y: -289, z: -79 }, at: expect.any(String) } },
    });
    expect(touched.state.position.z).toBeLessThanOrEqual(20);
    // The retained state says it too, for dashboards.
    await client.waitFor(TOPIC.state, (m) => client.received.indexOf(m) >= from && m.json().lastProbe?.at === touched.state.lastProbe.at, 5000);
    await send('move', { z: 50, feed: 10000 });
    const missed = await send('probe', { z: 30, feed: 3000 });
    expect(missed).toEqual({
      id: expect.any(String),
      ok: false,
      code: 'probe-no-contact',
      message:
        'the probe touched nothing on its way to Z 30: ALARM:5 Probe fail. Probe did not contact the workpiece within the programmed travel for G38.2 and G38.4. ' +
        'Position kept; GRBL is in alarm until unlocked: unlock, then retry or skip the probe (check the probe and its wiring if there was something to touch).',
    });
    expect(await send('unlock')).toMatchObject({ ok: true, state: { machine: 'Idle', homed: true, lastProbe: touched.state.lastProbe } });
  });

  it('publishes the retained state at least 5 times a second during a 1-second move', async () => {
    await send('home');
    const from = client.received.length;
    const reply = await send('move', { x: 10, feed: 600 });
    const states = client.received
      .slice(from)
      .filter((m) => m.topic === TOPIC.state)
      .map((m) => m.json());
    const running = states.filter((s) => s.machine === 'Run');
    expect(reply.ok).toBe(true);
    expect(running.length).toBeGreaterThanOrEqual(5);
    const xs = running.map((s) => s.position.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(states.at(-1)).toMatchObject({ machine: 'Idle', position: { x: 10 } });
  });

  it('holds mid-move without moving, then finishes at the target after release', async () => {
    await send('home');
    const move = send('move', { x: 10, feed: 600 });
    await sleep(400);
    const held = await send('hold');
    expect(held).toMatchObject({ ok: true, state: { machine: 'Hold' } });
    const x = held.state.position.x;
    expect(x).toBeGreaterThan(0);
    expect(x).toBeLessThan(10);
    await sleep(700);
    // The retained state says where the hold stopped the machine, not where it was when the hold began.
    expect(
      client.received
        .filter((m) => m.topic === TOPIC.state)
        .at(-1)!
        .json(),
    ).toMatchObject({ machine: 'Hold', position: { x } });
    expect((await send('status')).state).toMatchObject({ machine: 'Hold', position: { x } });
    expect(await send('release')).toMatchObject({ ok: true, state: { machine: 'Run' } });
    expect(await move).toMatchObject({ ok: true, state: { position: { x: 10, y: 0, z: 0 } } });
  });

  it('answers aborted to a move that stop interrupts, and keeps the position', async () => {
    await send('home');
    const move = send('move', { x: 10, feed: 600 });
    await sleep(400);
    const stopped = await send('stop');
    expect(stopped).toMatchObject({ ok: true, state: { machine: 'Idle', alarm: null } });
    expect(await move).toMatchObject({ ok: false, code: 'aborted', message: 'motion stopped' });
    const x = stopped.state.position.x;
    expect(x).toBeGreaterThan(0);
    expect(x).toBeLessThan(10);
    await sleep(300);
    expect((await send('status')).state.position).toEqual({ x, y: 0, z: 0 });
  });

  it('switches the simulated pump and valve by name, and shows their levels in the retained state', async () => {
    await send('home');
    const pumping = client.waitFor(TOPIC.state, (m) => m.json().outputs?.pump === 0.5);
    expect(await send('set-output', { output: 'pump', value: 0.5 })).toMatchObject({ ok: true, state: { outputs: { pump: 0.5, valve: 0 } } });
    expect((await pumping).json()).toMatchObject({ connected: true, outputs: { pump: 0.5, valve: 0 } });
    expect(await send('set-output', { output: 'valve', value: 1 })).toMatchObject({ ok: true, state: { outputs: { pump: 0.5, valve: 1 } } });
    // Retained: a client that subscribes later is told at once.
    const late = await connectTestClient(url);
    clients.push(late);
    await late.subscribe(TOPIC.state);
    expect((await late.waitFor(TOPIC.state, (m) => m.json().outputs?.valve === 1)).retain).toBe(true);
    // A feed hold stops motion, not the outputs (GRBL keeps spindle and coolant on while held).
    const move = send('move', { x: 10, feed: 600 });
    await sleep(300);
    expect(await send('hold')).toMatchObject({ ok: true, state: { machine: 'Hold', outputs: { pump: 0.5, valve: 1 } } });
    await send('release');
    await move;
    const off = client.waitFor(TOPIC.state, (m) => m.json().outputs?.pump === 0 && m.json().outputs?.valve === 0);
    await send('set-output', { output: 'pump', value: 0 });
    expect(await send('set-output', { output: 'valve', value: 0 })).toMatchObject({ ok: true, state: { outputs: { pump: 0, valve: 0 } } });
    await off;
  });

  it('answers an output the device does not offer with unknown-output, naming the ones it does, and a valve at 50 % with bad-request', async () => {
    expect(await send('set-output', { output: 'heater', value: 1 })).toEqual({
      id: expect.any(String),
      ok: false,
      code: 'unknown-output',
      message: 'there is no output "heater" on this device: its outputs are pump, valve',
    });
    expect(await send('set-output', { output: 'valve', value: 0.5 })).toMatchObject({
      ok: false,
      code: 'bad-request',
      message: "valve is an on/off output (GRBL's flood coolant): its value is 0 or 1, not 0.5",
    });
  });

  it('survives garbage on its request topic and answers a bad request with bad-request', async () => {
    for (const garbage of ['not json', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), Buffer.alloc(1024 * 1024, 0x5b), '[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]', 'null', '{"op":"move"}']) {
      await client.publish(TOPIC.requests, garbage);
    }
    const id = randomUUID();
    const reply = client.waitFor(REPLIES, (m) => m.json().id === id);
    await client.publish(TOPIC.requests, { id, replyTo: REPLIES, op: 'fly' });
    expect((await reply).json()).toMatchObject({ id, ok: false, code: 'bad-request' });
    expect(await send('status')).toMatchObject({ ok: true, state: { connected: true } });
    expect(service.proc.exitCode).toBeNull();
    expect(service.output()).toMatch(/warn bad hardware request/);
  });
});

const hasSocat = requirement(commandExists('socat'), 'socat', 'install it with `apt-get install socat`');

describe.skipIf(!hasSocat)('hardware service on a serial port (the simulator as its own process, on a pty)', () => {
  const dev = 'pty-int';
  const state = `hw/${dev}/state`;
  const link = path.join(os.tmpdir(), `labrun-hw-int-${randomUUID().slice(0, 8)}`);
  let sim: GrblSimProcess;
  let serial: ServiceProcess;
  let watcher: TestClient;

  async function request(op: string, params?: object): Promise<any> {
    const id = randomUUID();
    const reply = watcher.waitFor(REPLIES, (m) => m.json().id === id, 15_000);
    await watcher.publish(`hw/${dev}/requests`, { id, replyTo: REPLIES, op, ...(params ? { params } : {}) });
    return (await reply).json();
  }
  /** The first state published from now on that satisfies `predicate`. */
  const stateWhere = async (predicate: (s: any) => boolean) => {
    const from = watcher.received.length;
    const next = await watcher.waitFor(state, (m) => watcher.received.indexOf(m) >= from && m.text !== '' && predicate(m.json()), 15_000);
    return next.json();
  };

  beforeAll(async () => {
    sim = await startGrblSim(link);
    serial = await startService('hardware', { MQTT_URL: url, DEVICE_ID: dev, SERIAL_PATH: link });
    watcher = await connectTestClient(url);
    clients.push(watcher);
    await watcher.subscribe([REPLIES, state]);
  });

  it('drives GRBL on the serial port: locked at start, refuses to move until homed, then homes and moves', async () => {
    const connected = await watcher.waitFor(state, (m) => m.text !== '' && m.json().connected === true, 15_000);
    expect(connected.json()).toMatchObject({ connected: true, machine: 'Alarm', homed: false });
    expect(await request('move', { x: 5 })).toMatchObject({ ok: false, code: 'not-homed', message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1): home the machine, then retry' });
    expect(await request('home')).toMatchObject({ ok: true, state: { machine: 'Idle', homed: true } });
    expect(await request('move', { x: 20, y: 5, feed: 6000 })).toMatchObject({ ok: true, state: { machine: 'Idle', position: { x: 20, y: 5, z: 0 } } });
    expect(serial.output()).toMatch(/connected to GRBL target=\S+ machine=Alarm homed=false/);
  });

  it('reports connected: false while the port is gone, retries every second, and reconnects when it is back', async () => {
    expect(await request('home')).toMatchObject({ ok: true, state: { connected: true } });
    const move = request('move', { x: 150, feed: 3000 });
    await stateWhere((s) => s.machine === 'Run');
    const disconnected = stateWhere((s) => !s.connected);
    await sim.kill();
    expect(await move).toMatchObject({ ok: false, code: 'disconnected' });
    expect(await disconnected).toMatchObject({ connected: false, machine: 'Run' });
    expect(await request('status')).toMatchObject({ ok: true, state: { connected: false } });
    expect(await request('home')).toMatchObject({ ok: false, code: 'disconnected' });
    await sleep(2500);
    expect(serial.output().match(/cannot connect to GRBL; retrying in 1 s/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    const reconnected = stateWhere((s) => s.connected);
    sim = await startGrblSim(link);
    expect(await reconnected).toMatchObject({ connected: true, machine: 'Alarm', homed: false });
    expect(await request('home')).toMatchObject({ ok: true, state: { connected: true, homed: true } });
  }, 30_000);
});

describe('hardware service with a device profile (DEVICE_ORIGIN)', () => {
  const dev = 'profiled';
  let watcher: TestClient;

  beforeAll(async () => {
    await startService('hardware', { MQTT_URL: url, DEVICE_ID: dev, DEVICE_ORIGIN: '-250,-200.5,-60' });
    watcher = await connectTestClient(url);
    clients.push(watcher);
    await watcher.subscribe([REPLIES, `hw/${dev}/state`]);
    // The service is ready before its simulator has answered the handshake: requests wait until it is connected.
    await watcher.waitFor(`hw/${dev}/state`, (m) => m.text !== '' && m.json().connected === true, 15_000);
  });

  it("runs the example protocol's motion with its coordinates measured from the deck origin the profile gives", async () => {
    const example = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../../examples/serial-dilution.json'), 'utf8'));
    const motion = example.commands.filter((c: any) => c.type === 'home' || c.type === 'move');
    const request = async (op: string, params?: object) => {
      const id = randomUUID();
      const reply = watcher.waitFor(REPLIES, (m) => m.json().id === id, 15_000);
      await watcher.publish(`hw/${dev}/requests`, { id, replyTo: REPLIES, op, ...(params ? { params } : {}) });
      return (await reply).json();
    };
    const states = [];
    for (const command of motion) states.push(await request(command.type, command.params));
    expect(states.filter((reply) => !reply.ok)).toEqual([]);
    // home: machine -299,-299,-99 (the simulator homes towards -), which is deck -49,-98.5,-39 here.
    expect(states[0].state).toMatchObject({ position: { x: -49, y: -98.5, z: -39 }, machinePosition: { x: -299, y: -299, z: -99 } });
    // move to 10,20,5 on the deck: machine -240,-180.5,-55.
    expect(states[1].state).toMatchObject({ position: { x: 10, y: 20, z: 5 }, machinePosition: { x: -240, y: -180.5, z: -55 } });
    expect(states[2].state).toMatchObject({ position: { x: 0, y: 0, z: 0 }, machinePosition: { x: -250, y: -200.5, z: -60 } });
    const published = watcher.received
      .filter((m) => m.topic === `hw/${dev}/state`)
      .at(-1)!
      .json();
    expect(published).toMatchObject({ position: { x: 0, y: 0, z: 0 }, machinePosition: { x: -250, y: -200.5, z: -60 } });
  }, 30_000);
});

describe('hardware service configuration', () => {
  it('exits non-zero on a malformed HARDWARE_OUTPUTS, naming the variable and the form it expects', async () => {
    const proc = startProcess('hardware', appEntry('hardware'), { MQTT_URL: url, DEVICE_ID: DEV, HARDWARE_OUTPUTS: 'pump=laser' });
    expect(await proc.exited()).not.toBe(0);
    expect(proc.output()).toMatch(/HARDWARE_OUTPUTS="pump=laser": "laser" is not an accessory GRBL has: expected outputs as name=accessory pairs such as pump=spindle,valve=flood/);
  });

  it('exits non-zero on a malformed DEVICE_ORIGIN, naming the variable and the form it expects', async () => {
    const proc = startProcess('hardware', appEntry('hardware'), { MQTT_URL: url, DEVICE_ID: DEV, DEVICE_ORIGIN: '-250,-200' });
    expect(await proc.exited()).not.toBe(0);
    expect(proc.output()).toMatch(/DEVICE_ORIGIN="-250,-200": expected the machine position of the deck origin as x,y,z in mm/);
  });

  it('exits non-zero when SERIAL_PATH is empty, naming the variable and what it expects', async () => {
    const proc = startProcess('hardware', appEntry('hardware'), { MQTT_URL: url, DEVICE_ID: DEV, SERIAL_PATH: ' ' });
    expect(await proc.exited()).not.toBe(0);
    expect(proc.output()).toMatch(/SERIAL_PATH.*expected a serial port such as \/dev\/ttyUSB0, or sim for the built-in simulator/);
  });
});
