import { describe, expect, it } from 'vitest';
import { ConfigError, mqttClientEnv, parseEnv, portVar } from './config.js';

describe('parseEnv', () => {
  it('applies defaults and treats empty variables as unset', () => {
    expect(parseEnv(mqttClientEnv, { MQTT_URL: '' })).toEqual({ MQTT_URL: 'mqtt://127.0.0.1:1883' });
  });

  it('names each bad variable and what it expects', () => {
    expect(() => parseEnv({ ...mqttClientEnv, BROKER_PORT: portVar }, { MQTT_URL: 'localhost', BROKER_PORT: '99999' })).toThrow(ConfigError);
    try {
      parseEnv({ ...mqttClientEnv, BROKER_PORT: portVar }, { MQTT_URL: 'localhost', BROKER_PORT: '99999' });
    } catch (error) {
      expect((error as Error).message).toContain('MQTT_URL="localhost": expected an MQTT URL such as mqtt://127.0.0.1:1883');
      expect((error as Error).message).toContain('BROKER_PORT="99999": expected a port from 0 to 65535');
    }
  });
});
