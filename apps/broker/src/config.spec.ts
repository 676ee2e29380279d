// The broker's configuration rules: defaults, loopback detection, and the refusals that keep it from running open.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@labrun/contracts';
import { isLoopback, loadBrokerConfig } from './config.js';
import { describeListenError } from '@labrun/service';
import { MQTT, MQTT_WS } from './listen.js';

describe('broker configuration', () => {
  it('listens on 127.0.0.1:1883 and :9001 by default', () => {
    expect(loadBrokerConfig({})).toEqual({ host: '127.0.0.1', port: 1883, wsPort: 9001 });
  });

  it('treats 127.x.x.x, ::1 and localhost as loopback, and nothing else', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', '::1', '[::1]', '0:0:0:0:0:0:0:1', 'localhost', 'LOCALHOST']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '128.0.0.1', 'broker', 'localhost.example.com']) expect(isLoopback(host), host).toBe(false);
  });

  it('refuses a non-loopback host unless BROKER_ALLOW_ANONYMOUS=true', () => {
    expect(() => loadBrokerConfig({ BROKER_HOST: '0.0.0.0' })).toThrow(/BROKER_ALLOW_ANONYMOUS=true/);
    expect(() => loadBrokerConfig({ BROKER_HOST: '0.0.0.0', BROKER_ALLOW_ANONYMOUS: 'false' })).toThrow(ConfigError);
    expect(loadBrokerConfig({ BROKER_HOST: '0.0.0.0', BROKER_ALLOW_ANONYMOUS: 'true' }).host).toBe('0.0.0.0');
  });

  it('names BROKER_ALLOW_ANONYMOUS when it is neither true nor false', () => {
    expect(() => loadBrokerConfig({ BROKER_ALLOW_ANONYMOUS: 'yes' })).toThrow(/BROKER_ALLOW_ANONYMOUS="yes": expected true or false/);
  });

  it('refuses to start when an auth file is configured, even on loopback', () => {
    expect(() => loadBrokerConfig({ LABRUN_AUTH_FILE: 'auth.json' })).toThrow(/LABRUN_AUTH_FILE.*not support/);
  });

  it('refuses the same port for TCP and WebSocket, but allows both ephemeral', () => {
    expect(() => loadBrokerConfig({ BROKER_PORT: '1900', BROKER_WS_PORT: '1900' })).toThrow(/BROKER_PORT and BROKER_WS_PORT/);
    expect(loadBrokerConfig({ BROKER_PORT: '0', BROKER_WS_PORT: '0' })).toMatchObject({ port: 0, wsPort: 0 });
  });
});

describe('listen errors', () => {
  const busy = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });

  it('points at the busy WebSocket port, the broker already there and BROKER_WS_PORT', () => {
    const message = describeListenError(busy, MQTT_WS, '127.0.0.1', 9001);
    expect(message).toContain('port 9001 on 127.0.0.1 is already in use');
    expect(message).toContain('MQTT_URL=ws://127.0.0.1:9001/mqtt npm start');
    expect(message).toContain('BROKER_WS_PORT=<n>');
  });

  it('suggests a connectable address when the broker was to listen on all interfaces', () => {
    expect(describeListenError(busy, MQTT, '0.0.0.0', 1883)).toContain('MQTT_URL=mqtt://127.0.0.1:1883 ');
  });
});
