// The Home Assistant bridge's configuration, from the environment. LABRUN_HA_DISCOVERY both switches the bridge on
// (npm start runs it only when it is set) and names Home Assistant's discovery prefix.
import { z } from 'zod';
import { mqttClientEnv, parseEnv } from '@labrun/contracts';

const PREFIX_HINT = "expected Home Assistant's MQTT discovery prefix, usually homeassistant";

/**
 * A topic that discovery topics hang under (`homeassistant`, `lab/homeassistant`): a topic name, not a filter — no
 * `+` or `#`, no empty level (`a//b`, a leading or trailing `/`), no control characters, not a `$` broker topic.
 */
export const DiscoveryPrefix = z
  .string({ error: (issue) => (issue.input === undefined ? `not set: ${PREFIX_HINT} (the bridge publishes nothing without it)` : PREFIX_HINT) })
  .max(200, { error: `${PREFIX_HINT}; at most 200 characters` })
  .refine((prefix) => !/[+#]/.test(prefix), { error: `${PREFIX_HINT}: a topic, without the MQTT wildcards + and #` })
  .refine((prefix) => !/[\u0000-\u001f\u007f]/.test(prefix), { error: `${PREFIX_HINT}: no control characters` })
  .refine((prefix) => prefix.split('/').every((level) => level !== ''), { error: `${PREFIX_HINT}: no empty topic level (no leading, trailing or double /)` })
  .refine((prefix) => !prefix.startsWith('$'), { error: `${PREFIX_HINT}: topics starting with $ belong to the broker` });

export const homeAssistantEnv = {
  ...mqttClientEnv,
  LABRUN_HA_DISCOVERY: DiscoveryPrefix,
  /**
   * How long the bridge listens to the broker's retained messages after connecting before it removes anything, and
   * how long a device must have been gone before its entities are removed: an engine and a hardware service
   * restarting together (npm start again) do not make Home Assistant forget the device.
   */
  LABRUN_HA_SETTLE_MS: z.coerce
    .number({ error: 'expected milliseconds, such as 2000' })
    .int({ error: 'expected a whole number of milliseconds' })
    .min(0, { error: 'expected 0 to 600000 milliseconds' })
    .max(600_000, { error: 'expected 0 to 600000 milliseconds' })
    .default(2000),
};

export type HomeAssistantConfig = ReturnType<typeof loadConfig>;

/** Parse the environment; throws a ConfigError (exit code 2) naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(homeAssistantEnv, env);
}
