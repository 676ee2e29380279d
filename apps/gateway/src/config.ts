// The gateway's configuration, from the environment, and the security baseline it refuses to start without:
// as the broker does, no HTTP API without tokens on anything but loopback, unless asked for explicitly.
import { ConfigError, mqttClientEnv, parseEnv, portVar, topicId, hostVar } from '@labrun/contracts';
import { z } from 'zod';
import { isLoopback } from '@labrun/service';
import { DEFAULT_EXAMPLES_DIR } from './dashboard-files.js';

export const gatewayEnv = {
  ...mqttClientEnv,
  HTTP_HOST: hostVar.default('127.0.0.1'),
  /** 0 asks the system for a free port (tests use it). */
  HTTP_PORT: portVar.default(8080),
  /** Names this gateway's retained `gateway/<id>/online` flag, so several gateways can share a broker. */
  GATEWAY_ID: topicId('gateway id').default('gateway-1'),
  /** The example protocols the dashboard offers to start (`*.json` protocol documents). */
  LABRUN_EXAMPLES_DIR: z.string().min(1).default(DEFAULT_EXAMPLES_DIR),
  /** The auth file (the broker's): with it, every HTTP request needs a bearer token from its `tokens`. */
  LABRUN_AUTH_FILE: z.string().optional(),
  GATEWAY_ALLOW_ANONYMOUS: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
};

export type GatewayConfig = ReturnType<typeof loadConfig>;

/** Parse the environment; throws a ConfigError (exit code 2) with a message a user can act on. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const vars = parseEnv(gatewayEnv, env);
  const warnings: string[] = [];
  const authFile = vars.LABRUN_AUTH_FILE;
  if (authFile === undefined && !isLoopback(vars.HTTP_HOST) && vars.GATEWAY_ALLOW_ANONYMOUS !== 'true') {
    throw new ConfigError(
      `HTTP_HOST=${JSON.stringify(vars.HTTP_HOST)} is not a loopback address, and no LABRUN_AUTH_FILE is set, so anyone who can reach ` +
        "this host could create, pause, resume and stop runs. Set LABRUN_AUTH_FILE to the auth file with the gateway's bearer tokens " +
        '(make one with `labrun token add <name> --role operator --file <path>`; see docs/security.md). Or, to let anyone on the network ' +
        'in without a token, set GATEWAY_ALLOW_ANONYMOUS=true. Without either, the gateway only listens on loopback (127.0.0.1, ::1, ' +
        'localhost), where only this machine can reach it.',
    );
  }
  if (authFile !== undefined && vars.GATEWAY_ALLOW_ANONYMOUS === 'true') {
    warnings.push('GATEWAY_ALLOW_ANONYMOUS=true has no effect while LABRUN_AUTH_FILE is set: every request needs a bearer token');
  }
  if (authFile !== undefined && !isLoopback(vars.HTTP_HOST)) {
    warnings.push(
      `HTTP_HOST=${vars.HTTP_HOST} with tokens but plain HTTP: tokens cross the network in clear text unless the network is trusted; ` + 'put the gateway behind a reverse proxy that speaks HTTPS',
    );
  }
  return { ...vars, warnings };
}
