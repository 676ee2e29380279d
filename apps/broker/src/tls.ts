// The certificate and key of the TLS listeners (mqtts, wss): read from their files and checked to be a matching
// PEM pair before anything listens, and read again on SIGHUP so a renewed certificate needs no restart.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '@labrun/contracts';

export interface Certificate {
  cert: Buffer;
  key: Buffer;
}

function readPem(file: string, variable: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read: permission denied' : `cannot be read: ${(error as Error).message}`;
    throw new ConfigError(`${variable}=${JSON.stringify(file)}: the ${what} file ${why}`);
  }
}

/** Read and check a certificate and its key; a ConfigError names the variable and what is wrong. */
export function readCertificate(certFile: string, keyFile: string): Certificate {
  const cert = readPem(certFile, 'BROKER_TLS_CERT', 'certificate');
  const key = readPem(keyFile, 'BROKER_TLS_KEY', 'private key');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(
      `BROKER_TLS_CERT=${JSON.stringify(certFile)} and BROKER_TLS_KEY=${JSON.stringify(keyFile)} are not a usable pair of a PEM certificate ` + `and its private key: ${(error as Error).message}`,
    );
  }
  return { cert, key };
}
