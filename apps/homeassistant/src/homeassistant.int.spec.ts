// The built bridge as a real process beside labrun's broker, an engine and a hardware service on the simulator; the
// test plays Home Assistant: it reads the discovery configs under the prefix, follows the sensor's state and
// attribute topics through the configs' own templates (rendered by Jinja2), works out availability from the configs'
// availability lists, and presses buttons by publishing their payload_press to their command_topic. Then once on the
// Mosquitto at 127.0.0.1:1883, where Home Assistant users run labrun.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOSQUITTO_URL,
  buildRoot,
  connectTestClient,
  entityAvailable,
  jinjaAvailable,
  mosquittoAvailable,
  renderTemplate,
  startBroker,
  startProcess,
  startService,
  stopAll,
  type BrokerProcess,
  type ServiceProcess,
  type TestClient,
} from '@labrun/testkit';

const SETTLE_MS = 500;
const haveJinja = jinjaAvailable();
const bridgeEntry = () => path.join(buildRoot(), 'apps', 'homeassistant', 'dist', 'main.js');

async function startBridge(env: Record<string, string>): Promise<ServiceProcess> {
  const bridge = startProcess('homeassistant', bridgeEntry(), { LABRUN_HA_SETTLE_MS: String(SETTLE_MS), ...env });
  await bridge.waitFor(/ ready( |$)/m, 30_000);
  return bridge;
}

/** Home Assistant's view of the broker: every discovery config under the prefix and every topic they name. */
class HomeAssistant {
  constructor(
    readonly client: TestClient,
    readonly prefix: string,
  ) {}

  static async connect(url: string, prefix: string): Promise<HomeAssistant> {
    const client = await connectTestClient(url);
    await client.subscribe([`${prefix}/#`, 'labrun/ha/#', 'hw/+/online', 'device/+/current']);
    return new HomeAssistant(client, prefix);
  }

  last(topic: string): string | undefined {
    return this.client.messages(topic).at(-1)?.text;
  }

  /** The entity's config once announced (its latest retained payload). */
  async config(component: 'sensor' | 'button', deviceId: string, objectId: string): Promise<Record<string, any>> {
    const topic = `${this.prefix}/${component}/labrun_${deviceId}/${objectId}/config`;
    await this.client.waitFor(topic, (m) => m.text !== '');
    return JSON.parse(this.last(topic)!);
  }

  available(config: Record<string, any>): boolean {
    return entityAvailable(config, (topic) => this.last(topic));
  }

  /**
   * The sensor's state and attributes as Home Assistant shows them (its templates rendered by Jinja2), from the first
   * message on its state topic whose run document satisfies `where` (picked by plain JSON: rendering every message
   * would spawn Python for each).
   */
  async sensor(config: Record<string, any>, where: (run: { runId: string; status: string }) => boolean, timeoutMs = 20_000) {
    const message = await this.client.waitFor(config.state_topic, (m) => m.text !== '' && where(m.json()), timeoutMs);
    if (!haveJinja) return { state: message.json().status as string, attributes: {} as Record<string, any> };
    return { state: renderTemplate(config.value_template, message.text), attributes: JSON.parse(renderTemplate(config.json_attributes_template, message.text)) as Record<string, any> };
  }

  /** What Home Assistant does when someone presses the button. */
  press(button: Record<string, any>): Promise<void> {
    return this.client.publish(button.command_topic, button.payload_press, { qos: button.qos ?? 0, retain: Boolean(button.retain) });
  }
}

const protocol = (name: string, commands: unknown[]) => ({ schemaVersion: 1, metadata: { name }, commands });

describe("the Home Assistant bridge on labrun's broker", () => {
  const suffix = randomUUID().slice(0, 6);
  const deviceId = `ha-${suffix}`;
  const bench = `bench-${suffix}`; // a second device: a hardware service and no engine
  const prefix = 'homeassistant';
  let broker: BrokerProcess;
  let hardware: ServiceProcess;
  let benchHardware: ServiceProcess;
  let bridge: ServiceProcess;
  let ha: HomeAssistant;
  let operator: TestClient;

  beforeAll(async () => {
    broker = await startBroker();
    await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: `e-${suffix}`, DEVICE_ID: deviceId, LABRUN_FLEET_SETTLE_MS: '300' });
    hardware = await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: deviceId });
    benchHardware = await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: bench });
    operator = await connectTestClient(broker.url);
    // Left over from an earlier bridge: a labrun device that is not there any more.
    await operator.publish(`${prefix}/sensor/labrun_ghost-1/run/config`, { name: 'Run', device: { identifiers: ['labrun_ghost-1'], manufacturer: 'labrun' } }, { retain: true });
    ha = await HomeAssistant.connect(broker.url, prefix);
    bridge = await startBridge({ MQTT_URL: broker.url, LABRUN_HA_DISCOVERY: prefix });
  });

  afterAll(async () => {
    await ha?.client.close();
    await operator?.close();
    await stopAll();
  });

  /** Create a run on the device and play it, watching its status and events. */
  async function run(name: string, commands: unknown[]): Promise<string> {
    const runId = `${name}-${randomUUID().slice(0, 8)}`;
    await operator.subscribe([`run/${runId}/status`, `run/${runId}/events`]);
    await operator.publish(`run/${runId}/create`, { protocol: protocol(name, commands), deviceId });
    await operator.publish(`run/${runId}/actions`, 'play');
    return runId;
  }
  const statusOf = (runId: string, status: string) => operator.waitFor(`run/${runId}/status`, (m) => m.text !== '' && m.json().status === status, 20_000);

  it('announces the device: a run sensor and Resume, Pause and Stop buttons, available while the bridge, hardware and engine are up', async () => {
    const sensor = await ha.config('sensor', deviceId, 'run');
    expect(sensor).toMatchObject({ state_topic: `device/${deviceId}/current`, device: { identifiers: [`labrun_${deviceId}`], manufacturer: 'labrun', name: deviceId } });
    for (const action of ['resume', 'pause', 'stop']) {
      expect(await ha.config('button', deviceId, action)).toMatchObject({ command_topic: `labrun/ha/${deviceId}/action`, payload_press: action, device: sensor.device });
    }
    await ha.client.waitFor(`labrun/ha/${deviceId}/engine`, (m) => m.text === 'true');
    expect(ha.available(sensor)).toBe(true);
  });

  it('shows a run paused by its protocol, with the message, and resumes it when Resume is pressed', async () => {
    const sensor = await ha.config('sensor', deviceId, 'run');
    const resume = await ha.config('button', deviceId, 'resume');
    const runId = await run('check', [{ type: 'home' }, { type: 'pause', params: { message: 'Check the samples' } }, { type: 'comment', params: { message: 'done' } }]);
    const paused = await ha.sensor(sensor, (r) => r.runId === runId && r.status === 'paused');
    expect(paused.state).toBe('paused');
    if (haveJinja)
      expect(paused.attributes).toMatchObject({
        run_id: runId,
        run_name: 'check',
        pause_message: 'Check the samples',
        pause_source: 'protocol',
        allowed_actions: expect.arrayContaining(['resume', 'stop']),
      });
    if (haveJinja) expect(paused.attributes.since).toEqual(expect.any(String));
    // Home Assistant offers what the run accepts: Resume and Stop, not Pause.
    const pause = await ha.config('button', deviceId, 'pause');
    if (haveJinja) expect([ha.available(resume), ha.available(pause)]).toEqual([true, false]);

    await ha.press(resume);
    const accepted = await operator.waitFor(`run/${runId}/events`, (m) => m.json().type === 'action.accepted' && m.json().action === 'resume');
    expect(accepted.json()).toMatchObject({ by: 'home-assistant', actionId: expect.stringMatching(/^ha-/) });
    await statusOf(runId, 'succeeded');
    expect((await ha.sensor(sensor, (r) => r.runId === runId && r.status === 'succeeded')).state).toBe('succeeded');
    if (haveJinja) expect([ha.available(resume), ha.available(pause), ha.available(sensor)]).toEqual([false, false, true]);
    await bridge.waitFor(/the engine accepted a Home Assistant action/);
  });

  it("logs the engine's rejection of a press, with its reason", async () => {
    // The last run succeeded and is still the device's current run: a Resume now is refused.
    await ha.press(await ha.config('button', deviceId, 'resume'));
    await bridge.waitFor(/the engine rejected a Home Assistant resume: cannot resume run .*code=run-finished/);
  });

  it('stops a run when Stop is pressed', async () => {
    const sensor = await ha.config('sensor', deviceId, 'run');
    const runId = await run('long', [{ type: 'delay', params: { seconds: 60, message: 'Incubate' } }]);
    expect((await ha.sensor(sensor, (r) => r.runId === runId && r.status === 'running')).state).toBe('running');
    await ha.press(await ha.config('button', deviceId, 'stop'));
    await statusOf(runId, 'stopped');
    expect((await ha.sensor(sensor, (r) => r.runId === runId && r.status === 'stopped')).state).toBe('stopped');
  });

  it('never stops on garbage on its command topics, and still answers the next press', async () => {
    const garbage: (string | Buffer)[] = ['', 'PRESS', '{"type":"resume"}', Buffer.from([0xff, 0xfe, 0x00]), 'x'.repeat(100_000), '{'.repeat(1000)];
    for (const payload of garbage) await ha.client.publish(`labrun/ha/${deviceId}/action`, payload);
    await ha.client.publish('labrun/ha/no-such-device/action', 'resume');
    await ha.client.publish(`labrun/ha/${deviceId}/action`, 'resume', { retain: true });
    await ha.client.publish(`labrun/ha/${deviceId}/action`, '', { retain: true });
    await bridge.waitFor(/ignored a Home Assistant resume: device no-such-device has no current run/);
    expect(bridge.output()).toMatch(/ignored a Home Assistant press .*expected one of resume, pause, stop/);

    const sensor = await ha.config('sensor', deviceId, 'run');
    const runId = await run('after-garbage', [{ type: 'home' }, { type: 'pause', params: { message: 'Check again' } }]);
    await ha.sensor(sensor, (r) => r.runId === runId && r.status === 'paused');
    await ha.press(await ha.config('button', deviceId, 'resume'));
    await statusOf(runId, 'succeeded');
    expect(bridge.proc.exitCode).toBeNull();
  });

  it('re-announces every device when Home Assistant comes online', async () => {
    const topic = `${prefix}/sensor/labrun_${deviceId}/run/config`;
    const before = ha.client.messages(topic).length;
    await ha.client.publish(`${prefix}/status`, 'online');
    await ha.client.waitFor(topic, () => ha.client.messages(topic).length > before);
  });

  it('removes stale labrun configs left on the broker, and no one else\u2019s', async () => {
    await ha.client.waitFor(`${prefix}/sensor/labrun_ghost-1/run/config`, (m) => m.text === '');
    expect(ha.last(`${prefix}/sensor/labrun_${deviceId}/run/config`)).not.toBe('');
  });

  it('makes the device unavailable when its hardware service stops, and removes its configs once it is gone', async () => {
    const sensor = await ha.config('sensor', bench, 'run');
    await ha.client.waitFor(`labrun/ha/${bench}/engine`, (m) => m.text === 'false');
    // No engine serves the bench: it shows, but unavailable.
    expect(ha.available(sensor)).toBe(false);
    expect(ha.available(await ha.config('sensor', deviceId, 'run'))).toBe(true);

    await hardware.stop();
    await ha.client.waitFor(`hw/${deviceId}/online`, (m) => m.text === 'false');
    expect(ha.available(await ha.config('sensor', deviceId, 'run'))).toBe(false);
    // The engine still serves it: the device stays.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS * 2));
    expect(ha.last(`${prefix}/sensor/labrun_${deviceId}/run/config`)).not.toBe('');

    // The bench had only its hardware service: once that stops, its entities go.
    await benchHardware.stop();
    for (const topic of [`${prefix}/sensor/labrun_${bench}/run/config`, ...['resume', 'pause', 'stop'].map((b) => `${prefix}/button/labrun_${bench}/${b}/config`), `labrun/ha/${bench}/engine`]) {
      await ha.client.waitFor(topic, (m) => m.text === '', 5000);
    }
  });

  it('says it is offline when it stops, so every entity is unavailable', async () => {
    await bridge.stop();
    await ha.client.waitFor('labrun/ha/online', (m) => m.text === 'false');
    expect(ha.available(await ha.config('sensor', deviceId, 'run'))).toBe(false);
  });
});

describe('the Home Assistant bridge without LABRUN_HA_DISCOVERY', () => {
  it('exits at once, saying what to set', async () => {
    const bridge = startProcess('homeassistant', bridgeEntry(), { LABRUN_HA_DISCOVERY: '', MQTT_URL: 'mqtt://127.0.0.1:9' });
    expect(await bridge.exited()).toBe(2);
    expect(bridge.output()).toContain('LABRUN_HA_DISCOVERY="": not set: expected Home Assistant\'s MQTT discovery prefix, usually homeassistant');
  });
});

describe.skipIf(!(await mosquittoAvailable()))('the Home Assistant bridge on Mosquitto (127.0.0.1:1883)', () => {
  // Unique names: the Mosquitto broker is shared with whatever else runs on this machine.
  const suffix = randomUUID().slice(0, 8);
  const deviceId = `ha-moq-${suffix}`;
  const engineId = `e-ha-${suffix}`;
  const prefix = `labrun-test-${suffix}`;
  let ha: HomeAssistant;
  let services: ServiceProcess[] = [];
  let bridge: ServiceProcess;
  const runs: string[] = [];

  beforeAll(async () => {
    ha = await HomeAssistant.connect(MOSQUITTO_URL, prefix);
    services = [
      await startService('hardware', { MQTT_URL: MOSQUITTO_URL, DEVICE_ID: deviceId }),
      await startService('engine', { MQTT_URL: MOSQUITTO_URL, ENGINE_ID: engineId, DEVICE_ID: deviceId, LABRUN_FLEET_SETTLE_MS: '300' }),
    ];
    bridge = await startBridge({ MQTT_URL: MOSQUITTO_URL, LABRUN_HA_DISCOVERY: prefix });
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
    // With the device gone the bridge removes its configs; then nothing of this test stays retained.
    if (ha) {
      await ha.client.waitFor(`${prefix}/sensor/labrun_${deviceId}/run/config`, (m) => m.text === '', 5000).catch(() => undefined);
      await bridge?.stop();
      const left = [`hw/${deviceId}/state`, `hw/${deviceId}/online`, `engine/${engineId}/online`, `engine/${engineId}/status`, `device/${deviceId}/current`, `labrun/ha/${deviceId}/engine`];
      const configs = [`sensor/labrun_${deviceId}/run`, ...['resume', 'pause', 'stop'].map((b) => `button/labrun_${deviceId}/${b}`)].map((t) => `${prefix}/${t}/config`);
      for (const topic of [...left, ...configs, ...runs.flatMap((id) => [`run/${id}/status`, `run/${id}/commands`])]) await ha.client.publish(topic, '', { retain: true });
      // The bridge's own flag is shared by any bridge on this broker: clear it only if this test's bridge left it.
      if (ha.last('labrun/ha/online') === 'false') await ha.client.publish('labrun/ha/online', '', { retain: true });
      await ha.client.close();
    }
    // The engine's persistent session would queue messages on Mosquitto for ever: forget it.
    await (await connectTestClient(MOSQUITTO_URL, { clientId: `labrun-engine-${engineId}`, clean: true })).close();
    await stopAll();
  });

  it('announces the device and resumes a paused run when Resume is pressed', async () => {
    const sensor = await ha.config('sensor', deviceId, 'run');
    const resume = await ha.config('button', deviceId, 'resume');
    await ha.client.waitFor(`labrun/ha/${deviceId}/engine`, (m) => m.text === 'true');
    expect(ha.available(sensor)).toBe(true);

    const runId = `ha-moq-${randomUUID().slice(0, 8)}`;
    runs.push(runId);
    await ha.client.subscribe(`run/${runId}/status`);
    await ha.client.publish(`run/${runId}/create`, { protocol: protocol('mosquitto', [{ type: 'home' }, { type: 'pause', params: { message: 'Check the samples' } }]), deviceId });
    await ha.client.publish(`run/${runId}/actions`, 'play');
    const paused = await ha.sensor(sensor, (r) => r.runId === runId && r.status === 'paused');
    expect(paused.state).toBe('paused');
    if (haveJinja) expect(paused.attributes).toMatchObject({ run_id: runId, pause_message: 'Check the samples' });
    await ha.press(resume);
    await ha.client.waitFor(`run/${runId}/status`, (m) => m.text !== '' && m.json().status === 'succeeded', 20_000);
  });
});
