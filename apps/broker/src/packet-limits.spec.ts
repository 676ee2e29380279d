// Which parsed packets carry a NUL in a topic: every place MQTT 3.1.1 puts a topic or topic filter.
import { describe, expect, it } from 'vitest';
import { topicWithNul } from './packet-limits.js';

describe('topicWithNul', () => {
  it('finds a NUL in a PUBLISH topic, a will topic, a SUBSCRIBE or an UNSUBSCRIBE filter', () => {
    expect(topicWithNul({ cmd: 'publish', length: 10, topic: 'run/a\u0000/actions' })).toBe('run/a\u0000/actions');
    expect(topicWithNul({ cmd: 'connect', length: 10, will: { topic: 'engine/\u0000/online' } })).toBe('engine/\u0000/online');
    expect(topicWithNul({ cmd: 'subscribe', length: 10, subscriptions: [{ topic: 'run/#' }, { topic: '\u0000/#' }] })).toBe('\u0000/#');
    expect(topicWithNul({ cmd: 'unsubscribe', length: 10, unsubscriptions: ['run/#', 'x\u0000'] })).toBe('x\u0000');
  });

  it('passes topics without one, and packets without topics', () => {
    expect(topicWithNul({ cmd: 'publish', length: 10, topic: 'run//create' })).toBeUndefined();
    expect(topicWithNul({ cmd: 'connect', length: 10, will: null })).toBeUndefined();
    expect(topicWithNul({ cmd: 'subscribe', length: 10, subscriptions: [{ topic: 'run/+/status' }] })).toBeUndefined();
    expect(topicWithNul({ cmd: 'pingreq', length: 0 })).toBeUndefined();
  });
});
