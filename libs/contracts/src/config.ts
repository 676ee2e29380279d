// Service configuration from the environment, checked with zod at start-up.
import { z } from 'zod';

/** A TCP port; 0 asks the system for a free one. */
export const portVar = z.coerce
  .number({ error: 'expected a port number' })
  .int({ error: 'expected a whole port number' })
  .min(0, { error: 'expected a port from 0 to 65535' })
  .max(65535, { error: 'expected a port from 0 to 65535' });

/** A host name or address to listen on, such as 127.0.0.1 (each service gives its own default). */
export const hostVar = z.string().min(1, { error: 'expected a host name or address such as 127.0.0.1' });

export const mqttUrlVar = z.string().refine((s) => /^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/.test(s), { error: 'expected an MQTT URL such as mqtt://127.0.0.1:1883' });

export const mqttClientEnv = {
  MQTT_URL: mqttUrlVar.default('mqtt://127.0.0.1:1883'),
  MQTT_USERNAME: z.string().min(1).optional(),
  MQTT_PASSWORD: z.string().optional(),
};

/**
 * The login rate limit of the broker and the gateway (@labrun/service's LoginLimiter): failures from one address
 * within the window that block it for the block time. Unset: 10, 60 s, 60 s; 0 failures turns the limit off.
 */
export const loginLimitEnv = {
  LABRUN_LOGIN_MAX_FAILURES: z.coerce.number({ error: 'expected a number of failed logins (0: no limit)' }).int().min(0).max(1_000_000).optional(),
  LABRUN_LOGIN_WINDOW_SECONDS: z.coerce.number({ error: 'expected seconds' }).int().min(1).max(86_400).optional(),
  LABRUN_LOGIN_BLOCK_SECONDS: z.coerce.number({ error: 'expected seconds' }).int().min(1).max(86_400).optional(),
};

export class ConfigError extends Error {}

/** Parse `env` against a shape of variables; a bad value throws a ConfigError naming each variable and what it expects. */
export function parseEnv<Shape extends z.ZodRawShape>(shape: Shape, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<Shape>> {
  // Empty variables count as unset, as a shell user expects of `FOO= command`.
  const present = Object.fromEntries(Object.keys(shape).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])));
  const parsed = z.object(shape).safeParse(present);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
