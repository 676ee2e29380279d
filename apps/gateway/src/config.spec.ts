// Unit tests of the gateway's configuration, and the baseline it refuses to start without.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { DEFAULT_EXAMPLES_DIR } from './dashboard-files.js';

describe('gateway configuration', () => {
  it('defaults to 127.0.0.1:8080 and the local broker, without tokens', () => {
    expect(loadConfig({})).toEqual({
      MQTT_URL: 'mqtt://127.0.0.1:1883',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 8080,
      GATEWAY_ID: 'gateway-1',
      LABRUN_EXAMPLES_DIR: DEFAULT_EXAMPLES_DIR,
      GATEWAY_ALLOW_ANONYMOUS: 'false',
      warnings: [],
    });
    expect(DEFAULT_EXAMPLES_DIR).toMatch(/\/examples\/$/);
  });

  it('takes an ephemeral port and names a bad one', () => {
    expect(loadConfig({ HTTP_PORT: '0' }).HTTP_PORT).toBe(0);
    expect(() => loadConfig({ HTTP_PORT: '80800' })).toThrow('HTTP_PORT="80800": expected a port from 0 to 65535');
    expect(() => loadConfig({ GATEWAY_ID: 'a/b' })).toThrow("GATEWAY_ID=\"a/b\": gateway id must not contain '+', '#', '/'");
  });

  it('refuses a non-loopback HTTP_HOST without an auth file, unless GATEWAY_ALLOW_ANONYMOUS=true', () => {
    expect(() => loadConfig({ HTTP_HOST: '0.0.0.0' })).toThrow(/HTTP_HOST="0\.0\.0\.0" is not a loopback address, and no LABRUN_AUTH_FILE is set/);
    expect(() => loadConfig({ HTTP_HOST: 'lab-gw.local' })).toThrow(/GATEWAY_ALLOW_ANONYMOUS=true/);
    expect(loadConfig({ HTTP_HOST: '0.0.0.0', GATEWAY_ALLOW_ANONYMOUS: 'true' }).warnings).toEqual([]);
    expect(loadConfig({ HTTP_HOST: '::1' }).HTTP_HOST).toBe('::1');
    expect(() => loadConfig({ GATEWAY_ALLOW_ANONYMOUS: 'yes' })).toThrow('GATEWAY_ALLOW_ANONYMOUS="yes": expected true or false');
  });

  it('listens anywhere with an auth file, warning that tokens then cross the network in clear', () => {
    const config = loadConfig({ HTTP_HOST: '0.0.0.0', LABRUN_AUTH_FILE: '/etc/labrun/auth.json', GATEWAY_ALLOW_ANONYMOUS: 'true' });
    expect(config.LABRUN_AUTH_FILE).toBe('/etc/labrun/auth.json');
    expect(config.warnings).toEqual([
      expect.stringContaining('GATEWAY_ALLOW_ANONYMOUS=true has no effect while LABRUN_AUTH_FILE is set'),
      expect.stringContaining('tokens cross the network in clear text'),
    ]);
  });
});
