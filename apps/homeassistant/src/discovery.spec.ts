import { jinjaAvailable, renderTemplate, statusDocument } from '@labrun/testkit';
import { describe, expect, it } from 'vitest';
import { RUN_ATTRIBUTES_TEMPLATE, RUN_STATE_TEMPLATE, buttonAvailability, deviceConfigs, labrunConfigDevice, nodeId } from './discovery.js';

const byTopic = (prefix: string, deviceId: string) => Object.fromEntries(deviceConfigs(prefix, deviceId).map((m) => [m.topic, m.config]));

describe('discovery configs', () => {
  it('announces a run sensor and Resume, Pause and Stop buttons under the prefix, one node per device', () => {
    expect(Object.keys(byTopic('homeassistant', 'robot-1'))).toEqual([
      'homeassistant/sensor/labrun_robot-1/run/config',
      'homeassistant/button/labrun_robot-1/resume/config',
      'homeassistant/button/labrun_robot-1/pause/config',
      'homeassistant/button/labrun_robot-1/stop/config',
    ]);
  });

  it('puts every entity on one Home Assistant device, made by labrun', () => {
    for (const config of Object.values(byTopic('homeassistant', 'robot-1'))) {
      expect(config.device).toEqual({ identifiers: ['labrun_robot-1'], name: 'robot-1', manufacturer: 'labrun', model: 'GRBL motion controller' });
      expect(config.origin).toEqual({ name: 'labrun' });
    }
  });

  it("reads the sensor's state and attributes from the device's current run", () => {
    const sensor = byTopic('homeassistant', 'robot-1')['homeassistant/sensor/labrun_robot-1/run/config']!;
    expect(sensor).toMatchObject({
      name: 'Run',
      unique_id: 'labrun_robot-1_run',
      default_entity_id: 'sensor.labrun_robot_1_run',
      state_topic: 'device/robot-1/current',
      value_template: '{{ value_json.status }}',
      json_attributes_topic: 'device/robot-1/current',
      device_class: 'enum',
    });
    expect(sensor.options).toContain('paused');
    expect(sensor.options).toContain('awaiting-recovery');
  });

  it("makes each button publish its action word to the device's command topic", () => {
    const configs = byTopic('homeassistant', 'robot-1');
    for (const action of ['resume', 'pause', 'stop']) {
      expect(configs[`homeassistant/button/labrun_robot-1/${action}/config`]).toMatchObject({
        command_topic: 'labrun/ha/robot-1/action',
        payload_press: action,
        unique_id: `labrun_robot-1_${action}`,
        default_entity_id: `button.labrun_robot_1_${action}`,
        retain: false,
      });
    }
  });

  it('makes every entity available only while the bridge, the hardware service and a serving engine are all online, and a button only while the current run allows its action', () => {
    const flags = [
      { topic: 'labrun/ha/online', payload_available: 'true', payload_not_available: 'false' },
      { topic: 'hw/robot-1/online', payload_available: 'true', payload_not_available: 'false' },
      { topic: 'labrun/ha/robot-1/engine', payload_available: 'true', payload_not_available: 'false' },
    ];
    for (const [topic, config] of Object.entries(byTopic('homeassistant', 'robot-1'))) {
      expect(config.availability_mode).toBe('all');
      if (topic.includes('/sensor/')) expect(config.availability).toEqual(flags);
      else expect(config.availability).toEqual([...flags, expect.objectContaining({ topic: 'device/robot-1/current', payload_available: 'true' })]);
    }
  });

  it('gives device ids that discovery topics cannot carry a node id of their own, and lower-case entity ids', () => {
    expect(nodeId('robot-1')).toBe('labrun_robot-1');
    expect(nodeId('Bench 2.a')).toMatch(/^labrun_Bench_2_a_[0-9a-f]{8}$/);
    expect(nodeId('Bench 2.a')).not.toBe(nodeId('Bench_2_a'));
    expect(nodeId('Bench 2.b')).not.toBe(nodeId('Bench 2.a'));
    const configs = deviceConfigs('homeassistant', 'Bench 2.a');
    expect(configs[0]!.topic).toBe(`homeassistant/sensor/${nodeId('Bench 2.a')}/run/config`);
    expect(configs[0]!.config.default_entity_id).toBe('sensor.labrun_bench_2_a_run');
    expect(configs[1]!.config.command_topic).toBe('labrun/ha/Bench 2.a/action');
  });

  it('recognises its own retained configs, and nothing else, to remove stale ones', () => {
    const [sensor] = deviceConfigs('homeassistant', 'robot-1');
    const payload = Buffer.from(JSON.stringify(sensor!.config));
    expect(labrunConfigDevice('homeassistant', sensor!.topic, payload)).toBe('robot-1');
    expect(labrunConfigDevice('other', sensor!.topic, payload)).toBeNull();
    expect(labrunConfigDevice('homeassistant', 'homeassistant/sensor/zigbee_lamp/state/config', payload)).toBeNull();
    expect(labrunConfigDevice('homeassistant', sensor!.topic, Buffer.from('{"device":{"manufacturer":"acme","identifiers":["labrun_x"]}}'))).toBeNull();
    expect(labrunConfigDevice('homeassistant', sensor!.topic, Buffer.from('not json'))).toBeNull();
    expect(labrunConfigDevice('homeassistant', sensor!.topic, Buffer.alloc(0))).toBeNull();
  });
});

describe.runIf(jinjaAvailable())('the sensor templates, rendered by Jinja2 as Home Assistant does', () => {
  it("makes a button available by the current run's allowedActions: Resume on a paused run, not on a running one, nor with no run", () => {
    const allows = (action: 'resume' | 'pause' | 'stop', payload: string) => renderTemplate(buttonAvailability('robot-1', action).availability.at(-1)!.value_template!, payload);
    const paused = JSON.stringify(statusDocument('r-1', { status: 'paused', allowedActions: ['resume', 'stop'] }));
    const running = JSON.stringify(statusDocument('r-1', { status: 'running', allowedActions: ['pause', 'stop'] }));
    expect([allows('resume', paused), allows('pause', paused), allows('stop', paused)]).toEqual(['true', 'false', 'true']);
    expect([allows('resume', running), allows('pause', running)]).toEqual(['false', 'true']);
    // A pruned run's retained status is cleared (an empty payload); anything else unreadable is no run either.
    expect([allows('stop', ''), allows('stop', 'garbage'), allows('stop', '{}')]).toEqual(['false', 'false', 'false']);
  });

  it("gives the run's status as the state", () => {
    const paused = statusDocument('r-1', { status: 'paused' });
    expect(renderTemplate(RUN_STATE_TEMPLATE, JSON.stringify(paused))).toBe('paused');
  });

  it('gives the pause message, who, since when, the run and what can be done as attributes', () => {
    const paused = statusDocument('r-1', {
      name: 'Serial dilution',
      engineId: 'e1',
      status: 'paused',
      pause: { source: 'protocol', message: 'Check the samples', since: '2026-11-24T10:00:00.000Z', by: null, reasons: [] },
      allowedActions: ['play', 'resume', 'stop'],
      progress: { completed: 2, total: 5 },
    });
    expect(JSON.parse(renderTemplate(RUN_ATTRIBUTES_TEMPLATE, JSON.stringify(paused)))).toEqual({
      run_id: 'r-1',
      run_name: 'Serial dilution',
      engine_id: 'e1',
      pause_message: 'Check the samples',
      pause_source: 'protocol',
      paused_by: null,
      since: '2026-11-24T10:00:00.000Z',
      error: null,
      error_code: null,
      allowed_actions: ['play', 'resume', 'stop'],
      completed: 2,
      total: 5,
      started_at: null,
      completed_at: null,
      updated_at: '2026-11-24T10:00:00.000Z',
    });
  });

  it('gives the error of a failed command, and no pause, for a run without one (and no engine id from older engines)', () => {
    const failed = statusDocument('r-2', {
      status: 'awaiting-recovery',
      error: { code: 'not-homed', message: 'GRBL is in Alarm: home the machine, then retry', commandIndex: 0 },
    });
    const attributes = JSON.parse(renderTemplate(RUN_ATTRIBUTES_TEMPLATE, JSON.stringify(failed)));
    expect(attributes).toMatchObject({ run_id: 'r-2', engine_id: null, pause_message: null, since: null, error: 'GRBL is in Alarm: home the machine, then retry', error_code: 'not-homed' });
  });
});
