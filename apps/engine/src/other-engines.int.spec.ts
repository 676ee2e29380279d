// Two engines on one broker would both carry out every run: each says so as soon as it sees the other.
import { afterAll, expect, it } from 'vitest';
import { startBroker, startService, stopAll } from '@labrun/testkit';

afterAll(stopAll);

it('warns when another engine is online on the same broker, and says when it has gone', async () => {
  const broker = await startBroker();
  const first = await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'engine-a', DEVICE_ID: 'sim-a' });
  expect(first.output()).not.toMatch(/another engine/); // alone: nothing to say about itself
  const second = await startService('engine', { MQTT_URL: broker.url, ENGINE_ID: 'engine-b', DEVICE_ID: 'sim-b' });
  // The one that came second sees the first's retained flag; the first sees the second come up.
  await second.waitFor(/warn another engine is online on this broker: every engine takes every run.* engineId=engine-a/);
  await first.waitFor(/warn another engine is online on this broker: every engine takes every run.* engineId=engine-b/);
  await second.stop();
  await first.waitFor(/info the other engine is offline again engineId=engine-b/);
});
