// The broker's configuration rules: defaults, loopback detection, and the refusals that keep it from running open.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@labrun/contracts';
import { loadBrokerConfig } from './config.js';
import { describeListenError } from '@labrun/service';
import { MQTT, MQTT_WS } from './listen.js';

describe('broker configuration', () => {
  it('listens on 127.0.0.1:1883 and :9001 by default', () => {
    expect(loadBrokerConfig({})).toEqual({
      host: '127.0.0.1',
      port: 1883,
      wsPort: 9001,
      limits: { maxPacketBytes: 65 * 1024 * 1024, maxClientBacklogBytes: 130 * 1024 * 1024, maxClientWaitMs: 250 },
      warnings: [],
    });
  });

  it('takes the packet and backlog limits in bytes and the wait in ms, and names a bad one', () => {
    expect(loadBrokerConfig({ BROKER_MAX_PACKET_BYTES: '4096', BROKER_MAX_CLIENT_BACKLOG_BYTES: '8192', BROKER_MAX_CLIENT_WAIT_MS: '1000' }).limits).toEqual({
      maxPacketBytes: 4096,
      maxClientBacklogBytes: 8192,
      maxClientWaitMs: 1000,
    });
    expect(() => loadBrokerConfig({ BROKER_MAX_CLIENT_WAIT_MS: '0' })).toThrow(/BROKER_MAX_CLIENT_WAIT_MS="0": expected at least 1 ms/);
    expect(() => loadBrokerConfig({ BROKER_MAX_PACKET_BYTES: '8MiB' })).toThrow(/BROKER_MAX_PACKET_BYTES="8MiB": expected a number of bytes/);
    expect(() => loadBrokerConfig({ BROKER_MAX_PACKET_BYTES: '300000000' })).toThrow(/BROKER_MAX_PACKET_BYTES="300000000": expected at most 268435460 bytes/);
    expect(() => loadBrokerConfig({ BROKER_MAX_CLIENT_BACKLOG_BYTES: '12' })).toThrow(/expected at least 1024 bytes/);
  });

  it('refuses a client backlog smaller than the largest packet', () => {
    expect(() => loadBrokerConfig({ BROKER_MAX_PACKET_BYTES: '8192', BROKER_MAX_CLIENT_BACKLOG_BYTES: '4096' })).toThrow(
      /BROKER_MAX_CLIENT_BACKLOG_BYTES=4096 is less than BROKER_MAX_PACKET_BYTES=8192/,
    );
  });

  it('refuses a non-loopback host without an auth file unless BROKER_ALLOW_ANONYMOUS=true', () => {
    expect(() => loadBrokerConfig({ BROKER_HOST: '0.0.0.0' })).toThrow(/BROKER_ALLOW_ANONYMOUS=true/);
    expect(() => loadBrokerConfig({ BROKER_HOST: '0.0.0.0' })).toThrow(/Set LABRUN_AUTH_FILE to an auth file/);
    expect(() => loadBrokerConfig({ BROKER_HOST: '0.0.0.0', BROKER_ALLOW_ANONYMOUS: 'false' })).toThrow(ConfigError);
    expect(loadBrokerConfig({ BROKER_HOST: '0.0.0.0', BROKER_ALLOW_ANONYMOUS: 'true' }).host).toBe('0.0.0.0');
  });

  it('names BROKER_ALLOW_ANONYMOUS when it is neither true nor false', () => {
    expect(() => loadBrokerConfig({ BROKER_ALLOW_ANONYMOUS: 'yes' })).toThrow(/BROKER_ALLOW_ANONYMOUS="yes": expected true or false/);
  });

  it('listens on any host with an auth file, warning that passwords travel in clear text without TLS', () => {
    const config = loadBrokerConfig({ BROKER_HOST: '0.0.0.0', LABRUN_AUTH_FILE: 'auth.json' });
    expect(config).toMatchObject({ host: '0.0.0.0', authFile: 'auth.json' });
    expect(config.warnings.join('\n')).toMatch(/passwords cross the network in clear text/);
    expect(loadBrokerConfig({ LABRUN_AUTH_FILE: 'auth.json' }).warnings).toEqual([]);
  });

  it('warns that BROKER_ALLOW_ANONYMOUS=true does nothing once there is an auth file', () => {
    expect(loadBrokerConfig({ LABRUN_AUTH_FILE: 'auth.json', BROKER_ALLOW_ANONYMOUS: 'true' }).warnings).toEqual([
      'BROKER_ALLOW_ANONYMOUS=true has no effect while LABRUN_AUTH_FILE is set: every client must log in',
    ]);
  });

  it('refuses the same port for TCP and WebSocket, but allows both ephemeral', () => {
    expect(() => loadBrokerConfig({ BROKER_PORT: '1900', BROKER_WS_PORT: '1900' })).toThrow(/BROKER_PORT and BROKER_WS_PORT/);
    expect(loadBrokerConfig({ BROKER_PORT: '0', BROKER_WS_PORT: '0' })).toMatchObject({ port: 0, wsPort: 0 });
  });
});

describe('TLS configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-tls-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const garbage = path.join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');

  it('is off unless a TLS port is set', () => {
    expect(loadBrokerConfig({}).tls).toBeUndefined();
  });

  it('needs both the certificate and the key for either TLS port', () => {
    expect(() => loadBrokerConfig({ BROKER_TLS_PORT: '8883' })).toThrow(
      /BROKER_TLS_PORT is set, so the broker needs BROKER_TLS_CERT \(the certificate, PEM\) and BROKER_TLS_KEY \(its private key, PEM\)/,
    );
    expect(() => loadBrokerConfig({ BROKER_WSS_PORT: '9443', BROKER_TLS_CERT: garbage })).toThrow(/BROKER_WSS_PORT is set, so the broker needs BROKER_TLS_KEY/);
    expect(() => loadBrokerConfig({ BROKER_TLS_PORT: '8883', BROKER_WSS_PORT: '9443', BROKER_TLS_KEY: garbage })).toThrow(
      /BROKER_TLS_PORT and BROKER_WSS_PORT are set, so the broker needs BROKER_TLS_CERT/,
    );
  });

  it('refuses a certificate without a TLS port to use it on', () => {
    expect(() => loadBrokerConfig({ BROKER_TLS_CERT: garbage, BROKER_TLS_KEY: garbage })).toThrow(/no TLS listener is: set BROKER_TLS_PORT/);
  });

  it('names the file that is missing, and a pair that is not a certificate and its key', () => {
    const missing = path.join(dir, 'missing.pem');
    expect(() => loadBrokerConfig({ BROKER_TLS_PORT: '0', BROKER_TLS_CERT: missing, BROKER_TLS_KEY: garbage })).toThrow(
      `BROKER_TLS_CERT=${JSON.stringify(missing)}: the certificate file does not exist`,
    );
    expect(() => loadBrokerConfig({ BROKER_TLS_PORT: '0', BROKER_TLS_CERT: garbage, BROKER_TLS_KEY: missing })).toThrow(
      `BROKER_TLS_KEY=${JSON.stringify(missing)}: the private key file does not exist`,
    );
    expect(() => loadBrokerConfig({ BROKER_TLS_PORT: '0', BROKER_TLS_CERT: garbage, BROKER_TLS_KEY: garbage })).toThrow(/are not a usable pair of a PEM certificate and its private key/);
  });

  it('names the TLS port that clashes with another listener', () => {
    expect(() => loadBrokerConfig({ BROKER_PORT: '8883', BROKER_TLS_PORT: '8883' })).toThrow(/BROKER_PORT and BROKER_TLS_PORT are both 8883/);
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
