// The brokers a benchmark runs against: labrun's embedded Aedes broker (a fresh process on ephemeral ports) and
// the Mosquitto broker on 127.0.0.1:1883 when one answers there.
import { startBroker, tcpReachable, MOSQUITTO_URL } from '@labrun/testkit';

export async function brokers() {
  const list = [{ name: 'aedes (labrun broker)', url: async () => (await startBroker()).url }];
  if (await tcpReachable('127.0.0.1', 1883)) list.push({ name: 'mosquitto', url: async () => MOSQUITTO_URL });
  return list;
}
