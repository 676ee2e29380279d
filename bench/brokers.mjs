// The brokers a benchmark runs against: labrun's embedded Aedes broker (a fresh process on ephemeral ports) and
// the Mosquitto broker on 127.0.0.1:1883 when one answers there.
import { startBroker, tcpReachable, MOSQUITTO_URL } from '@labrun/testkit';

export async function brokers() {
  const list = [{ name: 'aedes (labrun broker)', url: async () => (await startBroker()).url, cycles: Number(process.env.BENCH_CYCLES ?? 2000) }];
  // The machine's Mosquitto runs with its default set_tcp_nodelay false: every message waits ~44 ms for TCP's
  // delayed ACK, so 2,000 cycles would take minutes. Fewer cycles measure the same thing.
  if (await tcpReachable('127.0.0.1', 1883)) list.push({ name: 'mosquitto', url: async () => MOSQUITTO_URL, cycles: Number(process.env.BENCH_MOSQUITTO_CYCLES ?? 300) });
  return list;
}
