// The broker's auth file (LABRUN_AUTH_FILE): users, their scrypt-hashed passwords and their roles. Reading and
// checking it, hashing and verifying passwords, and adding or removing a user — the `user` command and, later,
// `labrun user add` both go through here. The format is documented in docs/security.md.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ROLES, type Role } from './acl.js';

/** Costs for new hashes: about 16 MiB and a few tens of milliseconds per check, OWASP's minimum for scrypt. */
export const SCRYPT_DEFAULTS = { N: 2 ** 14, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;
/** Hashes costing more than this are refused when read, so a file cannot make each connect exhaust memory. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
export const MIN_PASSWORD_LENGTH = 8;

export interface PasswordHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const FORMAT = 'scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>';

/** Read `scrypt$N$r$p$salt$hash`; a string that says why it is not one otherwise. */
export function parsePasswordHash(text: string): PasswordHash | string {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return `expected ${FORMAT}`;
  const [, n, r, p, salt = '', hash = ''] = parts;
  const int = (s: string | undefined) => (s !== undefined && /^[1-9][0-9]{0,9}$/.test(s) ? Number(s) : NaN);
  const params = { N: int(n), r: int(r), p: int(p) };
  if (!(params.N > 1) || (params.N & (params.N - 1)) !== 0) return `N must be a power of two greater than 1, not ${JSON.stringify(n)}`;
  if (!(params.r >= 1 && params.r <= 64)) return `r must be from 1 to 64, not ${JSON.stringify(r)}`;
  if (!(params.p >= 1 && params.p <= 16)) return `p must be from 1 to 16, not ${JSON.stringify(p)}`;
  if (128 * params.N * params.r > MAX_SCRYPT_MEMORY) return `N=${params.N} and r=${params.r} would need more than 256 MiB per check`;
  if (!BASE64.test(salt) || !BASE64.test(hash)) return 'the salt and the hash must be base64';
  const decoded = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  if (decoded.salt.length < 8) return 'the salt must be at least 8 bytes';
  if (decoded.hash.length < 16 || decoded.hash.length > 128) return 'the hash must be 16 to 128 bytes';
  return { ...params, ...decoded };
}

function deriveKey(password: string | Buffer, salt: Buffer, keyBytes: number, options: ScryptOptions & { N: number; r: number }): Promise<Buffer> {
  const maxmem = 128 * options.N * options.r * 2;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyBytes, { ...options, maxmem }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Hash a password for the auth file: `scrypt$16384$8$1$<salt>$<hash>`, with a fresh random salt. */
export async function hashPassword(password: string, params: { N: number; r: number; p: number } = SCRYPT_DEFAULTS): Promise<string> {
  const salt = randomBytes(SCRYPT_DEFAULTS.saltBytes);
  const hash = await deriveKey(password, salt, SCRYPT_DEFAULTS.keyBytes, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Whether `password` is the one `stored` was made from. The comparison takes the same time wherever they differ. */
export async function verifyPassword(password: string | Buffer, stored: string | PasswordHash): Promise<boolean> {
  const parsed = typeof stored === 'string' ? parsePasswordHash(stored) : stored;
  if (typeof parsed === 'string') return false;
  const derived = await deriveKey(password, parsed.salt, parsed.hash.length, parsed);
  return timingSafeEqual(derived, parsed.hash);
}

// Names become MQTT usernames and appear in logs: keep them plain. (A leading letter or digit also keeps out
// `__proto__` and friends.)
const USER_NAME_RULE = 'a user name is 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit';
export const UserName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, { error: USER_NAME_RULE });

const PasswordField = z.string({ error: `expected a password hash: ${FORMAT}` }).superRefine((text, ctx) => {
  const parsed = parsePasswordHash(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `not a password hash: ${parsed} (make one with the user add command)` });
});

/** A message for a value of the wrong type; zod's own for the rest (unknown keys, bad names). */
const onlyIfNotAnObject = (message: string) => (issue: { code?: string }) => (issue.code === 'invalid_type' ? message : undefined);

export const AuthFileSchema = z.strictObject(
  {
    users: z.record(
      UserName,
      z.strictObject(
        {
          password: PasswordField,
          role: z.enum(ROLES, { error: `expected one of ${ROLES.join(', ')}` }),
        },
        { error: onlyIfNotAnObject('expected { "password": "scrypt$…", "role": "…" }') },
      ),
      { error: (issue) => (issue.code === 'invalid_key' ? `not a valid user name: ${USER_NAME_RULE}` : onlyIfNotAnObject('expected an object of users by name')(issue)) },
    ),
  },
  { error: onlyIfNotAnObject('expected { "users": { … } }') },
);
export type AuthFile = z.infer<typeof AuthFileSchema>;

export interface AuthUser {
  role: Role;
  password: PasswordHash;
}

/** A problem with an auth file; the message names the file and what is wrong, for the user as it is. */
export class AuthFileError extends Error {}

/** Check the text of an auth file. `file` is only used in messages. */
export function parseAuthFile(text: string, file: string): AuthFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AuthFileError(`auth file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = AuthFileSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(the whole file)';
    return `  ${where}: ${issue.message}`;
  });
  throw new AuthFileError(`auth file ${file} is not valid:\n${problems.join('\n')}`);
}

/** The users of a checked auth file, by name, with their hashes read. */
export function authUsers(auth: AuthFile): Map<string, AuthUser> {
  const users = new Map<string, AuthUser>();
  for (const [name, user] of Object.entries(auth.users)) {
    users.set(name, { role: user.role, password: parsePasswordHash(user.password) as PasswordHash });
  }
  return users;
}

/** Read and check an auth file; an AuthFileError says what is wrong with it. */
export async function loadAuthFile(file: string): Promise<AuthFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read: permission denied' : `cannot be read: ${(error as Error).message}`;
    throw new AuthFileError(`auth file ${file} ${why}`);
  }
  return parseAuthFile(text, file);
}

/** Write an auth file readable by its owner only (0600), all at once: a broker reading it never sees half a file. */
export async function writeAuthFile(file: string, auth: AuthFile): Promise<void> {
  const checked = AuthFileSchema.parse(auth);
  await mkdir(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(checked, null, 2)}\n`);
    await handle.chmod(0o600); // whatever the umask said
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function loadOrEmpty(file: string): Promise<AuthFile> {
  try {
    await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { users: {} };
  }
  return loadAuthFile(file);
}

/**
 * Add a user to the auth file, or change an existing user's password and role; creates the file if need be.
 * Only the scrypt hash of `password` is written. Resolves with whether the user is new.
 */
export async function addUser(file: string, name: string, role: Role, password: string): Promise<{ created: boolean }> {
  const validName = UserName.safeParse(name);
  if (!validName.success) throw new AuthFileError(`cannot add user ${JSON.stringify(name)}: ${validName.error.issues[0]?.message}`);
  if (!(ROLES as readonly string[]).includes(role)) throw new AuthFileError(`cannot add user ${name}: the role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(role)}`);
  if ([...password].length < MIN_PASSWORD_LENGTH) throw new AuthFileError(`cannot add user ${name}: the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  const auth = await loadOrEmpty(file);
  const created = !Object.hasOwn(auth.users, name);
  const users = { ...auth.users, [name]: { password: await hashPassword(password), role } };
  await writeAuthFile(file, { users });
  return { created };
}

/** Remove a user from the auth file; resolves with whether there was one. */
export async function removeUser(file: string, name: string): Promise<boolean> {
  const auth = await loadAuthFile(file);
  if (!Object.hasOwn(auth.users, name)) return false;
  const users = Object.fromEntries(Object.entries(auth.users).filter(([n]) => n !== name));
  await writeAuthFile(file, { users });
  return true;
}
