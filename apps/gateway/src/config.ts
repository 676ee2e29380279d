// The gateway's configuration, from the environment.
import { mqttClientEnv, parseEnv, portVar, topicId } from '@labrun/contracts';
import { z } from 'zod';
import { DEFAULT_EXAMPLES_DIR } from './dashboard-files.js';

export const gatewayEnv = {
  ...mqttClientEnv,
  HTTP_HOST: z.string().min(1, { error: 'expected a host name or address such as 127.0.0.1' }).default('127.0.0.1'),
  /** 0 asks the system for a free port (tests use it). */
  HTTP_PORT: portVar.default(8080),
  /** Names this gateway's retained `gateway/<id>/online` flag, so several gateways can share a broker. */
  GATEWAY_ID: topicId('gateway id').default('gateway-1'),
  /** The example protocols the dashboard offers to start (`*.json` protocol documents). */
  LABRUN_EXAMPLES_DIR: z.string().min(1).default(DEFAULT_EXAMPLES_DIR),
};

export type GatewayConfig = ReturnType<typeof loadConfig>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(gatewayEnv, env);
