// The broker floor for throughput: how many QoS 1 messages a second one mqtt.js publisher gets to one mqtt.js
// subscriber through the broker, nothing else involved. Every throughput figure is also given as a share of it,
// measured in the same run on the same broker: absolute figures differ 2-3× between this project's machines, a
// share of what the broker can carry does not.
import { connect, within } from './clients.mjs';
import { now } from './stats.mjs';
import { workload } from './workload.mjs';

export const FLOOR_MESSAGES = workload('BENCH_FLOOR_MESSAGES', 20_000, 1_000);
const WARMUP = Math.ceil(FLOOR_MESSAGES / 10);
const ROUNDS = 3;
const PAYLOAD = Buffer.alloc(100, 'x');
// At most this many published and not yet received: the publisher keeps the pipe full without flooding it. Without
// a window Mosquitto drops what does not fit its queue for a client (max_queued_messages 1,000 beyond the 20 in
// flight), and a flood measures buffering in the broker instead of a rate it keeps up.
const WINDOW = 500;

export const FLOOR_DESCRIPTION =
  `The broker floor: QoS 1 messages per second from one publisher to one subscriber (mqtt.js, ${PAYLOAD.length}-byte payloads, at most ` +
  `${WINDOW} sent and not yet received), the median of ${ROUNDS} runs of ${FLOOR_MESSAGES.toLocaleString('en')} after ` +
  `${WARMUP.toLocaleString('en')} unmeasured, on the same broker just before the figure it is set against.`;

/** Messages per second through the bench's broker: `{ rate, rates }` (the median and each run's). */
export async function brokerFloor({ url, tag }) {
  const topic = `bench/${tag}/floor`;
  const [publisher, subscriber] = await Promise.all([connect(url), connect(url)]);
  try {
    await subscriber.subscribeAsync(topic, { qos: 1 });
    // A broker that drops QoS 1 messages would leave the count short forever: fail the figure instead.
    const timed = (count) => within(stream(publisher, subscriber, topic, count), 60_000, `broker floor: ${count} QoS 1 messages through ${url}`);
    await timed(WARMUP);
    const rates = [];
    for (let round = 0; round < ROUNDS; round++) rates.push(await timed(FLOOR_MESSAGES));
    return { rate: [...rates].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)], rates };
  } finally {
    await Promise.all([publisher.endAsync(), subscriber.endAsync()]);
  }
}

/** Send `count` messages through the window; messages per second from the first sent to the last received. */
function stream(publisher, subscriber, topic, count) {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    const fill = () => {
      for (; sent < count && sent - received < WINDOW; sent++) publisher.publish(topic, PAYLOAD, { qos: 1 });
    };
    const onMessage = () => {
      if (++received < count) {
        fill();
        return;
      }
      subscriber.off('message', onMessage);
      resolve(Math.round(count / ((now() - start) / 1000)));
    };
    subscriber.on('message', onMessage);
    const start = now();
    fill();
  });
}
