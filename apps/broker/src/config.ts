// The broker's configuration from the environment, and the security baseline it refuses to start without.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { ConfigError, parseEnv, portVar } from '@labrun/contracts';

export const brokerEnv = {
  BROKER_HOST: z.string().default('127.0.0.1'),
  BROKER_PORT: portVar.default(1883),
  BROKER_WS_PORT: portVar.default(9001),
  BROKER_ALLOW_ANONYMOUS: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  LABRUN_AUTH_FILE: z.string().optional(),
};

export interface BrokerConfig {
  host: string;
  port: number;
  wsPort: number;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Whether `host` only reaches this machine: 127.x.x.x, ::1 (in any spelling) or `localhost`. */
export function isLoopback(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (address === 'localhost') return true;
  if (isIPv4(address)) return loopback.check(address, 'ipv4');
  if (isIPv6(address)) return loopback.check(address, 'ipv6');
  return false;
}

/** Parse the environment; throws a ConfigError (exit code 2) with a message a user can act on. */
export function loadBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const vars = parseEnv(brokerEnv, env);
  if (vars.LABRUN_AUTH_FILE !== undefined) {
    // Never run an open broker when the user asked for a closed one.
    throw new ConfigError(
      `LABRUN_AUTH_FILE=${JSON.stringify(vars.LABRUN_AUTH_FILE)} is set, but this version of the labrun broker does not support ` +
        'authentication files yet, so it will not start rather than run without the authentication you asked for. ' +
        'Unset LABRUN_AUTH_FILE to run an anonymous broker on loopback, or point MQTT_URL at a broker with authentication (such as Mosquitto).',
    );
  }
  if (!isLoopback(vars.BROKER_HOST) && vars.BROKER_ALLOW_ANONYMOUS !== 'true') {
    throw new ConfigError(
      `BROKER_HOST=${JSON.stringify(vars.BROKER_HOST)} is not a loopback address. This broker has no authentication yet, ` +
        'so by default it only listens on loopback (127.0.0.1, ::1, localhost), where only this machine can reach it. ' +
        'To let anyone who can reach this host publish and subscribe without a password, also set BROKER_ALLOW_ANONYMOUS=true.',
    );
  }
  if (vars.BROKER_PORT !== 0 && vars.BROKER_PORT === vars.BROKER_WS_PORT) {
    throw new ConfigError(`BROKER_PORT and BROKER_WS_PORT are both ${vars.BROKER_PORT}: the TCP and WebSocket listeners need different ports`);
  }
  return { host: vars.BROKER_HOST, port: vars.BROKER_PORT, wsPort: vars.BROKER_WS_PORT };
}
