import { describe, expect, it } from 'vitest';
import { topicMatches } from './mqtt-client.js';

describe('topicMatches', () => {
  it('matches MQTT wildcards as a broker does', () => {
    expect(topicMatches('run/+/status', 'run/r-1/status')).toBe(true);
    expect(topicMatches('run/+/status', 'run/r-1/events')).toBe(false);
    expect(topicMatches('run/#', 'run/r-1/events')).toBe(true);
    expect(topicMatches('run/+', 'run/r-1/events')).toBe(false);
    expect(topicMatches('hw/sim-1/state', 'hw/sim-1/state')).toBe(true);
  });
});
