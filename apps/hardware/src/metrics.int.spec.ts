// The hardware service's Prometheus metrics on HARDWARE_METRICS_PORT, scraped from the running process on the
// built-in simulator: the controller's state, the outputs, and the requests it answered; clean under promtool.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { connectTestClient, metricSample, promtoolAvailable, promtoolCheck, startBroker, startService, stopAll } from '@labrun/testkit';

describe('the hardware service on HARDWARE_METRICS_PORT', () => {
  afterAll(stopAll);

  it('says whether the controller is connected, homed and in alarm, each output, and every request answered by op and result', async () => {
    const device = `sim-metrics-${randomUUID().slice(0, 6)}`;
    const broker = await startBroker();
    const service = await startService('hardware', { MQTT_URL: broker.url, DEVICE_ID: device, HARDWARE_METRICS_PORT: '0' });
    const url = (await service.waitFor(/metrics listening http=(\S+)/))[1]!;
    const client = await connectTestClient(broker.url);
    await client.subscribe(['test/metrics/replies', `hw/${device}/state`]);
    await client.waitFor(`hw/${device}/state`, (m) => m.text !== '' && m.json().connected === true, 20_000);
    const send = async (op: string, params?: object) => {
      const id = randomUUID();
      const reply = client.waitFor('test/metrics/replies', (m) => m.json().id === id, 15_000);
      await client.publish(`hw/${device}/requests`, { id, replyTo: 'test/metrics/replies', op, ...(params ? { params } : {}) });
      return (await reply).json();
    };
    const scrape = async () => (await fetch(url)).text();

    let text = await scrape();
    expect(metricSample(text, 'labrun_hardware_controller_connected')).toBe(1);
    expect(metricSample(text, 'labrun_hardware_homed')).toBe(0); // the simulator starts locked in Alarm, homing on
    expect(metricSample(text, 'labrun_hardware_alarm')).toBe(1);
    expect(metricSample(text, 'labrun_hardware_machine_state{state="Alarm"}')).toBe(1);

    expect(await send('move', { x: 5, feed: 3000 })).toMatchObject({ ok: false, code: 'not-homed' });
    expect(await send('home')).toMatchObject({ ok: true });
    expect(await send('set-output', { output: 'pump', value: 0.5 })).toMatchObject({ ok: true });

    text = await scrape();
    expect(metricSample(text, 'labrun_hardware_homed')).toBe(1);
    expect(metricSample(text, 'labrun_hardware_alarm')).toBe(0);
    expect(metricSample(text, 'labrun_hardware_machine_state{state="Idle"}')).toBe(1);
    expect(metricSample(text, 'labrun_hardware_machine_state{state="Alarm"}')).toBe(0);
    expect(metricSample(text, 'labrun_hardware_output_level{output="pump"}')).toBe(0.5);
    expect(metricSample(text, 'labrun_hardware_output_level{output="valve"}')).toBe(0);
    expect(metricSample(text, 'labrun_hardware_requests_total{op="move",result="failed",code="not-homed"}')).toBe(1);
    expect(metricSample(text, 'labrun_hardware_requests_total{op="home",result="ok"}')).toBe(1);
    expect(metricSample(text, 'labrun_hardware_requests_total{op="probe",result="ok"}')).toBe(0);
    expect(metricSample(text, 'labrun_hardware_request_seconds_count{op="home"}')).toBe(1);
    expect(text).not.toContain(device);
    if (promtoolAvailable()) expect(await promtoolCheck(text)).toEqual({ code: 0, problems: [] });
    await client.close();
  });
});
