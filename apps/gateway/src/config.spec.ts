// Unit tests of the gateway's configuration.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { DEFAULT_EXAMPLES_DIR } from './dashboard-files.js';

describe('gateway configuration', () => {
  it('defaults to 127.0.0.1:8080 and the local broker', () => {
    expect(loadConfig({})).toEqual({ MQTT_URL: 'mqtt://127.0.0.1:1883', HTTP_HOST: '127.0.0.1', HTTP_PORT: 8080, GATEWAY_ID: 'gateway-1', LABRUN_EXAMPLES_DIR: DEFAULT_EXAMPLES_DIR });
    expect(DEFAULT_EXAMPLES_DIR).toMatch(/\/examples\/$/);
  });

  it('takes an ephemeral port and names a bad one', () => {
    expect(loadConfig({ HTTP_PORT: '0' }).HTTP_PORT).toBe(0);
    expect(() => loadConfig({ HTTP_PORT: '80800' })).toThrow('HTTP_PORT="80800": expected a port from 0 to 65535');
    expect(() => loadConfig({ GATEWAY_ID: 'a/b' })).toThrow("GATEWAY_ID=\"a/b\": gateway id must not contain '+', '#', '/'");
  });
});
