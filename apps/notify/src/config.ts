// The notify service's configuration: the environment, and the notify file it names.
import path from 'node:path';
import { mqttClientEnv, parseEnv, topicId } from '@labrun/contracts';
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
};

export type Config = ReturnType<typeof loadConfig>;

/** The environment and the notify file; throws a ConfigError (exit code 2) naming what is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const vars = parseEnv(notifyEnv, env);
  return {
    ...vars,
    LABRUN_NOTIFY_STATE: vars.LABRUN_NOTIFY_STATE ?? path.join(vars.LABRUN_DATA_DIR, 'notify-state.json'),
    notify: readNotifyFile(vars.LABRUN_NOTIFY_FILE),
  };
}
