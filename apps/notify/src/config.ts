// The notify service's configuration: the environment, and the notify file it names.
import os from 'node:os';
import path from 'node:path';
import { mqttClientEnv, parseEnv, portVar, topicId } from '@labrun/contracts';
import { z } from 'zod';
import { readNotifyFile } from './notify-file.js';

export const notifyEnv = {
  ...mqttClientEnv,
  /** The notify file: which statuses to tell about, and the webhooks and e-mail addresses to tell. */
  LABRUN_NOTIFY_FILE: z.string({ error: 'expected the path of the notify file (JSON)' }).min(1),
  /** What was sent (and what is being sent), so a restart never sends the same change twice. */
  LABRUN_NOTIFY_STATE: z.string().min(1).optional(),
  /** The engine's data directory: the state file's default home. */
  LABRUN_DATA_DIR: z.string().min(1).default('./.labrun'),
  /** Names this service's MQTT client (`labrun-notify-<id>`), so several can share a broker. */
  NOTIFY_ID: topicId('notify id').default('notify-1'),
  /** The gateway's address (as `npm start` gives both services the same environment): the dashboard links' default. */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: portVar.default(8080),
};

/** The dashboard as the gateway serves it with HTTP_HOST and HTTP_PORT; a wildcard address becomes this host's name. */
export function gatewayDashboardUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? os.hostname() : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

export type Config = ReturnType<typeof loadConfig>;

/** The environment and the notify file; throws a ConfigError (exit code 2) naming what is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const vars = parseEnv(notifyEnv, env);
  const notify = readNotifyFile(vars.LABRUN_NOTIFY_FILE);
  return {
    ...vars,
    LABRUN_NOTIFY_STATE: vars.LABRUN_NOTIFY_STATE ?? path.join(vars.LABRUN_DATA_DIR, 'notify-state.json'),
    notify: { ...notify, dashboardUrl: notify.dashboardUrl ?? gatewayDashboardUrl(vars.HTTP_HOST, vars.HTTP_PORT) },
  };
}
