// The broker's configuration from the environment, and the security baseline it refuses to start without:
// no anonymous broker on a network unless asked for, and no half-configured TLS.
import { z } from 'zod';
import { isLoopback } from '@labrun/service';
import { ConfigError, parseEnv, portVar, hostVar } from '@labrun/contracts';
import { readCertificate, type Certificate } from './tls.js';

/** The largest packet MQTT 3.1.1 can frame: a remaining length of 268,435,455 plus a 5-byte fixed header. */
const MQTT_MAX_PACKET_BYTES = 268_435_460;
/**
 * The largest legitimate packet is a create: the engine and gateway accept protocols up to 64 MiB (CREATE_LIMITS in
 * libs/contracts). 1 MiB more leaves room for the topic. The engine's retained commands document also has to fit
 * (19 MB for 100,000 commands, bench/README.md).
 */
const DEFAULT_MAX_PACKET_BYTES = 65 * 1024 * 1024;
/** Twice the largest packet: a client that reads keeps up with any one message, one that stops is cut off soon. */
const DEFAULT_MAX_CLIENT_BACKLOG_BYTES = 2 * DEFAULT_MAX_PACKET_BYTES;

const byteCount = (min: number, max: number) =>
  z.coerce
    .number({ error: 'expected a number of bytes' })
    .int({ error: 'expected a whole number of bytes' })
    .min(min, { error: `expected at least ${min} bytes` })
    .max(max, { error: `expected at most ${max} bytes` });

export const brokerEnv = {
  BROKER_HOST: z.string().default('127.0.0.1'),
  BROKER_PORT: portVar.default(1883),
  BROKER_WS_PORT: portVar.default(9001),
  BROKER_ALLOW_ANONYMOUS: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  LABRUN_AUTH_FILE: z.string().optional(),
  /** Keep sessions, subscriptions and retained messages in Redis (and share messages with other brokers on it). */
  BROKER_REDIS_URL: z
    .string()
    .refine((s) => /^rediss?:\/\/[^\s]+$/.test(s), { error: 'expected a Redis URL such as redis://127.0.0.1:6379/0' })
    .optional(),
  BROKER_TLS_PORT: portVar.optional(),
  BROKER_WSS_PORT: portVar.optional(),
  BROKER_TLS_CERT: z.string().optional(),
  BROKER_TLS_KEY: z.string().optional(),
  BROKER_MAX_PACKET_BYTES: byteCount(1024, MQTT_MAX_PACKET_BYTES).default(DEFAULT_MAX_PACKET_BYTES),
  BROKER_MAX_CLIENT_BACKLOG_BYTES: byteCount(1024, Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_CLIENT_BACKLOG_BYTES),
  /** Prometheus metrics on this port (GET /metrics), when set. */
  BROKER_METRICS_PORT: portVar.optional(),
  BROKER_METRICS_HOST: hostVar.default('127.0.0.1'),
  BROKER_MAX_CLIENT_WAIT_MS: z.coerce
    .number({ error: 'expected a number of milliseconds' })
    .int({ error: 'expected a whole number of milliseconds' })
    .min(1, { error: 'expected at least 1 ms' })
    .max(60_000, { error: 'expected at most 60000 ms' })
    .default(250),
};

export interface TlsConfig {
  /** MQTT over TLS (mqtts://), if enabled. */
  port: number | undefined;
  /** MQTT over secure WebSocket (wss://…/mqtt), if enabled. */
  wsPort: number | undefined;
  certFile: string;
  keyFile: string;
  certificate: Certificate;
}

/** What the broker holds for one client at most (see docs/mqtt-contract.md, "labrun's broker: limits"). */
export interface BrokerLimits {
  /** A client that sends a larger packet is disconnected as soon as its fixed header says how large it is. */
  maxPacketBytes: number;
  /** A client with more than this waiting to be sent to it (it stopped reading) is disconnected. */
  maxClientBacklogBytes: number;
  /** How long deliveries wait for one client's full socket before going on without waiting for it. */
  maxClientWaitMs: number;
}

export interface BrokerConfig {
  host: string;
  port: number;
  wsPort: number;
  /** Users and roles: when set, every client must log in and topics are limited by role. */
  authFile?: string;
  tls?: TlsConfig;
  /** Redis for sessions, subscriptions and retained messages (survive a restart; brokers on it form a cluster). */
  redisUrl?: string;
  limits: BrokerLimits;
  /** Where to serve Prometheus metrics, when asked for. */
  metrics?: { host: string; port: number };
  /** Settings that are allowed but probably not what the user meant, to log at start. */
  warnings: string[];
}

type Vars = z.infer<z.ZodObject<typeof brokerEnv>>;

function loadTls(vars: Vars): TlsConfig | undefined {
  const { BROKER_TLS_PORT: port, BROKER_WSS_PORT: wsPort, BROKER_TLS_CERT: certFile, BROKER_TLS_KEY: keyFile } = vars;
  const ports = [port === undefined ? [] : ['BROKER_TLS_PORT'], wsPort === undefined ? [] : ['BROKER_WSS_PORT']].flat();
  if (ports.length === 0) {
    if (certFile === undefined && keyFile === undefined) return undefined;
    throw new ConfigError(
      `${certFile !== undefined ? 'BROKER_TLS_CERT' : 'BROKER_TLS_KEY'} is set but no TLS listener is: set BROKER_TLS_PORT (MQTT over TLS, ` +
        'mqtts://, usually 8883) and/or BROKER_WSS_PORT (MQTT over secure WebSocket, wss://) as well, or unset BROKER_TLS_CERT and BROKER_TLS_KEY',
    );
  }
  const missing = [certFile === undefined ? ['BROKER_TLS_CERT (the certificate, PEM)'] : [], keyFile === undefined ? ['BROKER_TLS_KEY (its private key, PEM)'] : []].flat();
  if (missing.length > 0) {
    throw new ConfigError(
      `${ports.join(' and ')} ${ports.length > 1 ? 'are' : 'is'} set, so the broker needs ${missing.join(' and ')}: set ${missing.length > 1 ? 'them' : 'it'} to the path of a file`,
    );
  }
  return { port, wsPort, certFile: certFile!, keyFile: keyFile!, certificate: readCertificate(certFile!, keyFile!) };
}

/** Parse the environment; throws a ConfigError (exit code 2) with a message a user can act on. */
export function loadBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const vars = parseEnv(brokerEnv, env);
  const authFile = vars.LABRUN_AUTH_FILE;
  const warnings: string[] = [];
  if (authFile === undefined && !isLoopback(vars.BROKER_HOST) && vars.BROKER_ALLOW_ANONYMOUS !== 'true') {
    throw new ConfigError(
      `BROKER_HOST=${JSON.stringify(vars.BROKER_HOST)} is not a loopback address, and no LABRUN_AUTH_FILE is set, so anyone who can reach ` +
        'this host could pause, resume and stop runs. Set LABRUN_AUTH_FILE to an auth file (users, passwords and roles: see docs/security.md; ' +
        'add a user with `node apps/broker/dist/main.js user add <name> --role admin --file <path>`). Or, to let anyone on the network publish ' +
        'and subscribe without a password, set BROKER_ALLOW_ANONYMOUS=true. Without either, the broker only listens on loopback ' +
        '(127.0.0.1, ::1, localhost), where only this machine can reach it.',
    );
  }
  if (authFile !== undefined && vars.BROKER_ALLOW_ANONYMOUS === 'true') {
    warnings.push('BROKER_ALLOW_ANONYMOUS=true has no effect while LABRUN_AUTH_FILE is set: every client must log in');
  }
  const ports = [
    ['BROKER_PORT', vars.BROKER_PORT],
    ['BROKER_WS_PORT', vars.BROKER_WS_PORT],
    ['BROKER_TLS_PORT', vars.BROKER_TLS_PORT],
    ['BROKER_WSS_PORT', vars.BROKER_WSS_PORT],
    ['BROKER_METRICS_PORT', vars.BROKER_METRICS_PORT],
  ] as const;
  for (const [i, [name, port]] of ports.entries()) {
    const same = ports.slice(i + 1).find(([, other]) => port !== undefined && port !== 0 && other === port);
    if (same) throw new ConfigError(`${name} and ${same[0]} are both ${port}: each listener needs a port of its own`);
  }
  const tls = loadTls(vars);
  if (authFile !== undefined && !isLoopback(vars.BROKER_HOST) && (tls === undefined || tls.port === undefined)) {
    warnings.push(
      `BROKER_HOST=${vars.BROKER_HOST} with authentication but no BROKER_TLS_PORT: passwords cross the network in clear text ` +
        'unless the network is trusted; consider BROKER_TLS_PORT, BROKER_TLS_CERT and BROKER_TLS_KEY',
    );
  }
  const limits = {
    maxPacketBytes: vars.BROKER_MAX_PACKET_BYTES,
    maxClientBacklogBytes: vars.BROKER_MAX_CLIENT_BACKLOG_BYTES,
    maxClientWaitMs: vars.BROKER_MAX_CLIENT_WAIT_MS,
  };
  if (limits.maxClientBacklogBytes < limits.maxPacketBytes) {
    throw new ConfigError(
      `BROKER_MAX_CLIENT_BACKLOG_BYTES=${limits.maxClientBacklogBytes} is less than BROKER_MAX_PACKET_BYTES=${limits.maxPacketBytes}: ` +
        'a subscriber sent one message of the largest size allowed would be cut off; raise BROKER_MAX_CLIENT_BACKLOG_BYTES',
    );
  }
  return {
    host: vars.BROKER_HOST,
    port: vars.BROKER_PORT,
    wsPort: vars.BROKER_WS_PORT,
    ...(authFile !== undefined ? { authFile } : {}),
    ...(tls ? { tls } : {}),
    ...(vars.BROKER_REDIS_URL ? { redisUrl: vars.BROKER_REDIS_URL } : {}),
    ...(vars.BROKER_METRICS_PORT !== undefined ? { metrics: { host: vars.BROKER_METRICS_HOST, port: vars.BROKER_METRICS_PORT } } : {}),
    limits,
    warnings,
  };
}
