// Tools and brokers a test needs from the machine. Missing in CI (CI=true) is a failure; elsewhere the
// test is skipped with a line that says what is missing and how to get it.
import net from 'node:net';
import { execFileSync } from 'node:child_process';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export function tcpReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a requirement is met. In CI a missing requirement throws (so the suite fails); elsewhere it
 * prints why the tests that need it are skipped and returns false.
 */
export function requirement(met: boolean, what: string, howToGet: string): boolean {
  if (met) return true;
  const message = `${what} is not available: ${howToGet}`;
  if (inCI) throw new Error(`${message} (required in CI)`);
  console.warn(`SKIPPING tests that need ${what}: ${message}`);
  return false;
}

export const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';
export async function mosquittoAvailable(): Promise<boolean> {
  return requirement(await tcpReachable('127.0.0.1', 1883), 'the Mosquitto broker on 127.0.0.1:1883', 'start it with `mosquitto -d`');
}

/** Empty one database of the Redis server on 127.0.0.1:6379 (a raw RESP command: no client library needed). */
export function flushRedisDb(db: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect(6379, '127.0.0.1', () => socket.write(`SELECT ${db}\r\nFLUSHDB\r\n`));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      const replies = answer.split('\r\n').filter(Boolean);
      if (replies.length < 2) return;
      socket.end();
      if (replies.some((r) => r.startsWith('-'))) reject(new Error(`redis refused: ${answer.trim()}`));
      else resolve();
    });
    socket.on('error', reject);
  });
}
