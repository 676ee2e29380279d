// Every way a GRBL controller fails, injected into the simulator running as its own process on a pty (the
// labrun-grbl-sim faults on its stdin), and the reply the built hardware service gives over MQTT for each: its
// code, GRBL's own words plus what the operator does, and positionLost — the table of docs/hardware.md.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { commandExists, connectTestClient, requirement, startGrblSim, startService, stopAll, type GrblSimProcess, type TestClient } from '@labrun/testkit';

const DEV = 'faulty';
const TOPIC = { requests: `hw/${DEV}/requests`, state: `hw/${DEV}/state` };
const REPLIES = 'test/hw/fault-replies';
const hasSocat = requirement(commandExists('socat'), 'socat', 'install it with `apt-get install socat`');

describe.skipIf(!hasSocat)('hardware service replies to every controller failure, classified', () => {
  const link = path.join(os.tmpdir(), `labrun-hw-faults-${randomUUID().slice(0, 8)}`);
  let broker: Aedes;
  let server: net.Server;
  let url: string;
  let sim: GrblSimProcess;
  let client: TestClient;

  /** Send a request now; resolves with its reply. */
  async function request(op: string, params?: object, timeoutMs = 15_000): Promise<any> {
    const id = randomUUID();
    const reply = client.waitFor(REPLIES, (m) => m.json().id === id, timeoutMs);
    await client.publish(TOPIC.requests, { id, replyTo: REPLIES, op, ...(params ? { params } : {}) });
    return (await reply).json();
  }
  /** The first state published from now on that satisfies `predicate`. */
  async function stateWhere(predicate: (s: any) => boolean): Promise<any> {
    const from = client.received.length;
    const next = await client.waitFor(TOPIC.state, (m) => client.received.indexOf(m) >= from && m.text !== '' && predicate(m.json()), 15_000);
    return next.json();
  }
  /** A fault on the simulator's stdin, once it has acknowledged it. */
  async function inject(command: string, ack: RegExp): Promise<void> {
    const from = sim.output().length;
    sim.control(command);
    await sim.waitFor(new RegExp(`^[\\s\\S]{${from}}[\\s\\S]*?${ack.source}`)); // acknowledged after `from`
  }
  /** A homed machine with a 3-second move under way: `reply` is that move's reply. */
  async function midMove(): Promise<{ reply: Promise<any> }> {
    expect(await request('home')).toMatchObject({ ok: true, state: { homed: true } });
    const running = stateWhere((s) => s.machine === 'Run');
    const reply = request('move', { x: 150, feed: 3000 }, 25_000);
    await running;
    return { reply }; // not the promise itself: an async function's result would wait for it
  }

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    sim = await startGrblSim(link);
    await startService('hardware', { MQTT_URL: url, DEVICE_ID: DEV, SERIAL_PATH: link });
    client = await connectTestClient(url);
    await client.subscribe([REPLIES, TOPIC.state]);
    await client.waitFor(TOPIC.state, (m) => m.text !== '' && m.json().connected === true, 15_000);
  });

  afterAll(async () => {
    await stopAll();
    await client?.close();
    await new Promise<void>((resolve) => broker?.close(() => resolve()));
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('not-homed at start-up; unlock ($X) leaves Alarm but not homed, and a move is still refused until home', async () => {
    expect(await request('move', { x: 5 })).toEqual({
      id: expect.any(String),
      ok: false,
      code: 'not-homed',
      message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1): home the machine, then retry',
    });
    expect(await request('unlock')).toMatchObject({ ok: true, state: { machine: 'Idle', homed: false, alarm: null } });
    const refused = await request('move', { x: 5 });
    expect(refused).toMatchObject({ ok: false, code: 'not-homed', message: expect.stringMatching(/^GRBL does not know where the machine is, .*: home the machine, then retry$/) });
    expect(refused).not.toHaveProperty('positionLost');
    expect(await request('home')).toMatchObject({ ok: true, state: { machine: 'Idle', homed: true } });
    expect(await request('move', { x: 5, feed: 6000 })).toMatchObject({ ok: true, state: { position: { x: 5 } } });
  });

  it('alarm with positionLost when a limit switch trips mid-move (ALARM:1), and refuses to move until homed', async () => {
    const move = (await midMove()).reply;
    await inject('limit x', /limit=x\n/);
    expect(await move).toEqual({
      id: expect.any(String),
      ok: false,
      code: 'alarm',
      message:
        'ALARM:1 Hard limit triggered. Machine position is likely lost due to sudden and immediate halt. Re-homing is highly recommended. ' +
        'Position lost: home the machine before moving again (it stopped dead at a limit switch; see what is in the way).',
      positionLost: true,
    });
    expect((await request('status')).state).toMatchObject({ machine: 'Alarm', homed: false, alarm: { code: 1 } });
    expect(await request('move', { x: 1 })).toMatchObject({ ok: false, code: 'alarm', positionLost: true, message: expect.stringMatching(/^GRBL is in alarm since ALARM:1 Hard limit triggered\. /) });
    expect(await request('home')).toMatchObject({ ok: true, state: { machine: 'Idle', homed: true, alarm: null } });
  }, 30_000);

  it("grbl-error with GRBL's words when GRBL refuses the move's line (error:20), and the retry moves", async () => {
    expect(await request('home')).toMatchObject({ ok: true });
    await inject('error 20', /next-line=error:20\n/);
    const refused = await request('move', { x: 10 });
    expect(refused).toEqual({
      id: expect.any(String),
      ok: false,
      code: 'grbl-error',
      message: 'GRBL refused "G90 G21 G53 G1 X-289 F1000": error:20 Unsupported or invalid g-code command found in block. GRBL executed none of the line: check the command, then retry or skip it.',
    });
    expect(await request('move', { x: 10 })).toMatchObject({ ok: true, state: { position: { x: 10 } } });
  });

  it('probe-no-contact when the probe touches nothing, probe-already-in-contact when it touches before moving; both keep the position', async () => {
    expect(await request('home')).toMatchObject({ ok: true });
    await request('move', { z: 50, feed: 6000 });
    await inject('probe off', /probe-surface=none\n/);
    expect(await request('probe', { z: 40, feed: 3000 })).toMatchObject({
      ok: false,
      code: 'probe-no-contact',
      message: expect.stringMatching(/^the probe touched nothing on its way to Z 40: ALARM:5 /),
    });
    expect((await request('unlock')).state).toMatchObject({ machine: 'Idle', homed: true });
    await inject('probe z=-59', /probe-surface=z:-59\n/); // deck Z 40: where the missed probe left it
    const touching = await request('probe', { z: 30, feed: 3000 });
    expect(touching).toMatchObject({ ok: false, code: 'probe-already-in-contact', message: expect.stringMatching(/^the probe was touching something before it moved toward Z 30: ALARM:4 /) });
    expect(touching).not.toHaveProperty('positionLost');
    expect((await request('unlock')).state).toMatchObject({ machine: 'Idle', homed: true, position: { z: 40 } });
    await inject('probe off', /probe-surface=none\n/);
  }, 30_000);

  it('alarm with positionLost when the reset button stops a move (ALARM:3)', async () => {
    const move = (await midMove()).reply;
    await inject('reset', /reset=pressed\n/);
    expect(await move).toMatchObject({
      ok: false,
      code: 'alarm',
      message: expect.stringMatching(/^ALARM:3 Reset while in motion\. Grbl cannot guarantee position\..* Position lost: home the machine before moving again\.$/),
      positionLost: true,
    });
    expect((await request('status')).state).toMatchObject({ machine: 'Alarm', homed: false, alarm: { code: 3 } });
  }, 30_000);

  it('reset with positionLost when a power cut restarts GRBL mid-move, which then needs homing', async () => {
    const move = (await midMove()).reply;
    const restarted = stateWhere((s) => s.machine === 'Alarm' && !s.homed);
    await inject('power cycle', /power=cycled\n/);
    expect(await move).toEqual({
      id: expect.any(String),
      ok: false,
      code: 'reset',
      message: 'GRBL was reset before it answered "G4 P0": a power cut, its board restarting, or another program\'s Ctrl-X. Position lost: home the machine before moving again.',
      positionLost: true,
    });
    await restarted; // GRBL's unlock reminder, right after its banner, has reached the service
    expect(await request('move', { x: 1 })).toMatchObject({ ok: false, code: 'not-homed', message: 'GRBL is in Alarm after start-up (homing is enabled, $22=1): home the machine, then retry' });
  }, 30_000);

  it('timeout when the controller stops answering mid-move (10 s of silence), keeping the position', async () => {
    const move = (await midMove()).reply;
    await inject('hang', /firmware=hung\n/);
    const reply = await move;
    expect(reply).toMatchObject({
      ok: false,
      code: 'timeout',
      message: expect.stringMatching(
        /^GRBL on \S+ sent nothing for 1\d s, not even a status report, while "G4 P0" awaited its answer: it may have hung, or the link is broken\. Check that the controller is powered and its cable is in, then retry \(home it first if it restarted\)\.$/,
      ),
    });
    expect(reply).not.toHaveProperty('positionLost');
    const restarted = stateWhere((s) => s.machine === 'Alarm' && !s.homed);
    await inject('power cycle', /power=cycled\n/); // the way out of a hung firmware
    await restarted; // its banner has reached the service: a `$H` sent before it would be lost in the restart
    expect(await request('home')).toMatchObject({ ok: true, state: { homed: true } });
  }, 40_000);

  it('disconnected with positionLost when the serial line drops mid-move, and for requests while it is gone', async () => {
    const move = (await midMove()).reply;
    await sim.kill();
    expect(await move).toMatchObject({
      ok: false,
      code: 'disconnected',
      message: expect.stringMatching(
        /^the connection to GRBL on \S+ closed during the command\. GRBL restarts when its port is opened again .*: reconnect the controller \(check its cable and power\), then home it\.$/,
      ),
      positionLost: true,
    });
    expect(await request('home')).toMatchObject({ ok: false, code: 'disconnected', positionLost: true, message: expect.stringMatching(/^not connected to GRBL on \S+: the port is not there/) });
  }, 30_000);
});
