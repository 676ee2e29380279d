// The auth file (LABRUN_AUTH_FILE) of the broker and the gateway: users with their scrypt-hashed passwords and
// roles (for MQTT), and the gateway's bearer tokens with theirs (for HTTP). Reading and checking it, hashing and
// verifying passwords and tokens, adding and removing users and tokens — `labrun-broker user`, `labrun user`,
// `labrun token` and the gateway all go through here. The format is documented in docs/security.md.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { replaceFile } from '@labrun/service/files';
import { ROLES, type Role } from './acl.js';
import { deviceListProblem } from './devices.js';

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
  return new Promise((resolve, reject) => scrypt(password, salt, keyBytes, { ...options, maxmem }, (error, key) => (error ? reject(error) : resolve(key))));
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
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const nameRule = (what: string) => `a ${what} is 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`;
const USER_NAME_RULE = nameRule('user name');
const TOKEN_NAME_RULE = nameRule('token name');
export const UserName = z.string().regex(NAME_PATTERN, { error: USER_NAME_RULE });
export const TokenName = z.string().regex(NAME_PATTERN, { error: TOKEN_NAME_RULE });

const PasswordField = z.string({ error: `expected a password hash: ${FORMAT}` }).superRefine((text, ctx) => {
  const parsed = parsePasswordHash(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `not a password hash: ${parsed} (make one with the user add command)` });
});

const TOKEN_HASH_FORMAT = 'sha256$<the SHA-256 digest of the token, base64>';
const TOKEN_HASH = /^sha256\$([A-Za-z0-9+/]{43}=)$/;
const TokenHashField = z.string({ error: `expected a token hash: ${TOKEN_HASH_FORMAT}` }).regex(TOKEN_HASH, {
  error: `not a token hash: expected ${TOKEN_HASH_FORMAT} (make one with labrun token add)`,
});

const RoleField = z.enum(ROLES, { error: `expected one of ${ROLES.join(', ')}` });

/** A service user's devices: the only ones it may act for (devices.ts). Absent: every device. */
const DevicesField = z.array(z.string(), { error: 'expected a list of device ids, like ["robot-1", "robot-2"]' }).superRefine((devices, ctx) => {
  const problem = deviceListProblem(devices);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** A message for a value of the wrong type; zod's own for the rest (unknown keys, bad names). */
const onlyIfNotAnObject = (message: string) => (issue: { code?: string }) => (issue.code === 'invalid_type' ? message : undefined);

export const AuthFileSchema = z.strictObject(
  {
    users: z.record(
      UserName,
      z
        .strictObject(
          {
            password: PasswordField,
            role: RoleField,
            devices: DevicesField.optional(),
          },
          { error: onlyIfNotAnObject('expected { "password": "scrypt$…", "role": "…" }, and for a service user optionally "devices": […]') },
        )
        .superRefine((user, ctx) => {
          if (user.devices !== undefined && user.role !== 'service') {
            ctx.addIssue({
              code: 'custom',
              path: ['devices'],
              message: `only a service user can be held to devices, not a${user.role === 'admin' || user.role === 'operator' ? 'n' : ''} ${user.role}`,
            });
          }
        }),
      { error: (issue) => (issue.code === 'invalid_key' ? `not a valid user name: ${USER_NAME_RULE}` : onlyIfNotAnObject('expected an object of users by name')(issue)) },
    ),
    // The gateway's bearer tokens, by name. Optional: a file with users only is what the broker always read.
    tokens: z
      .record(
        TokenName,
        z.strictObject(
          {
            hash: TokenHashField,
            role: RoleField,
            /** Who acts with this token: the `by` of the actions the gateway sends for it. */
            user: UserName,
            created: z.iso.datetime({ error: 'expected the time the token was made, as an ISO 8601 date and time' }).optional(),
          },
          { error: onlyIfNotAnObject('expected { "hash": "sha256$…", "role": "…", "user": "…" }') },
        ),
        { error: (issue) => (issue.code === 'invalid_key' ? `not a valid token name: ${TOKEN_NAME_RULE}` : onlyIfNotAnObject('expected an object of tokens by name')(issue)) },
      )
      .optional(),
  },
  { error: onlyIfNotAnObject('expected { "users": { … } }, and optionally "tokens": { … }') },
);
export type AuthFile = z.infer<typeof AuthFileSchema>;

export interface AuthUser {
  role: Role;
  password: PasswordHash;
  /** The only devices a service user may act for; undefined: every device. */
  devices?: ReadonlySet<string>;
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
    users.set(name, { role: user.role, password: parsePasswordHash(user.password) as PasswordHash, ...(user.devices ? { devices: new Set(user.devices) } : {}) });
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
  await replaceFile(file, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
}

/** The file as it is, or an empty one if there is none yet (a file that is there but broken is an error). */
async function loadOrEmpty(file: string): Promise<AuthFile> {
  try {
    await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { users: {} };
  }
  return loadAuthFile(file);
}

export interface AddUserOptions {
  /**
   * A service user's devices: a list holds it to them, `null` lifts the hold (every device). Left out, an existing
   * service user keeps the devices it had (changing a password must not quietly widen what it may do).
   */
  devices?: readonly string[] | null;
}

/**
 * Add a user to the auth file, or change an existing user's password and role; creates the file if need be.
 * Only the scrypt hash of `password` is written. Resolves with whether the user is new, and the devices it is
 * held to (undefined: every device).
 */
export async function addUser(file: string, name: string, role: Role, password: string, options: AddUserOptions = {}): Promise<{ created: boolean; devices?: string[] }> {
  const validName = UserName.safeParse(name);
  if (!validName.success) throw new AuthFileError(`cannot add user ${JSON.stringify(name)}: ${validName.error.issues[0]?.message}`);
  if (!(ROLES as readonly string[]).includes(role)) throw new AuthFileError(`cannot add user ${name}: the role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(role)}`);
  if (options.devices && role !== 'service') throw new AuthFileError(`cannot add user ${name}: only a service user can be held to devices, not ${role}`);
  if (options.devices) {
    const problem = deviceListProblem(options.devices);
    if (problem !== undefined) throw new AuthFileError(`cannot add user ${name}: devices: ${problem}`);
  }
  if ([...password].length < MIN_PASSWORD_LENGTH) throw new AuthFileError(`cannot add user ${name}: the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  const auth = await loadOrEmpty(file);
  const created = !Object.hasOwn(auth.users, name);
  const kept = role === 'service' && options.devices === undefined && !created ? auth.users[name]!.devices : undefined;
  const devices = options.devices ? [...options.devices] : kept;
  const users = { ...auth.users, [name]: { password: await hashPassword(password), role, ...(devices ? { devices } : {}) } };
  await writeAuthFile(file, { ...auth, users });
  return devices ? { created, devices } : { created };
}

/** Remove a user from the auth file; resolves with whether there was one. */
export async function removeUser(file: string, name: string): Promise<boolean> {
  const auth = await loadAuthFile(file);
  if (!Object.hasOwn(auth.users, name)) return false;
  const users = Object.fromEntries(Object.entries(auth.users).filter(([n]) => n !== name));
  await writeAuthFile(file, { ...auth, users });
  return true;
}

// ---------------------------------------------------------------- bearer tokens (the gateway's HTTP API)

/** Every token `newToken` makes starts with this, so secret scanners and people can tell what it is. */
export const TOKEN_PREFIX = 'lrt_';
const TOKEN_BYTES = 32;

/**
 * A new bearer token: `lrt_` and 32 random bytes in base64url (256 bits). Tokens are random, not chosen by
 * people, so a fast hash (SHA-256) is enough to store them: nobody can search 2^256 candidates, and checking one
 * costs microseconds rather than scrypt's tens of milliseconds on every HTTP request.
 */
export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
}

const tokenDigest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** What the auth file keeps of a token: `sha256$<digest, base64>`. */
export function hashToken(token: string): string {
  return `sha256$${tokenDigest(token).toString('base64')}`;
}

export interface AuthToken {
  name: string;
  role: Role;
  /** Who acts with it: the `by` of the actions sent for it. */
  user: string;
  /** The SHA-256 digest of the token. */
  digest: Buffer;
}

/** The tokens of a checked auth file, with their hashes read. */
export function authTokens(auth: AuthFile): AuthToken[] {
  return Object.entries(auth.tokens ?? {}).map(([name, token]) => ({
    name,
    role: token.role,
    user: token.user,
    digest: Buffer.from(TOKEN_HASH.exec(token.hash)![1]!, 'base64'),
  }));
}

/**
 * The token `presented` is, if it is one of `tokens`. Every stored digest is compared, in constant time and
 * without stopping at a match, so how long it takes says nothing about which token (or how much of one) matched.
 */
export function findToken(tokens: readonly AuthToken[], presented: string): AuthToken | undefined {
  const digest = tokenDigest(presented);
  let found: AuthToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(digest, token.digest) && found === undefined) found = token;
  }
  return found;
}

/**
 * Make a token for the gateway and add it to the auth file under `name` (replacing the token of that name, which
 * then stops working); creates the file if need be. Only its hash is written: the token itself is in the answer,
 * the one time anybody sees it. `user` (default: `name`) is who acts with it.
 */
export async function addToken(file: string, name: string, role: Role, options: { user?: string; now?: Date } = {}): Promise<{ token: string; created: boolean }> {
  const validName = TokenName.safeParse(name);
  if (!validName.success) throw new AuthFileError(`cannot add token ${JSON.stringify(name)}: ${validName.error.issues[0]?.message}`);
  if (!(ROLES as readonly string[]).includes(role)) throw new AuthFileError(`cannot add token ${name}: the role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(role)}`);
  const user = options.user ?? name;
  const validUser = UserName.safeParse(user);
  if (!validUser.success) throw new AuthFileError(`cannot add token ${name} for user ${JSON.stringify(user)}: ${validUser.error.issues[0]?.message}`);
  const auth = await loadOrEmpty(file);
  const created = !Object.hasOwn(auth.tokens ?? {}, name);
  const token = newToken();
  const tokens = { ...auth.tokens, [name]: { hash: hashToken(token), role, user, created: (options.now ?? new Date()).toISOString() } };
  await writeAuthFile(file, { ...auth, tokens });
  return { token, created };
}

/** Remove a token from the auth file (the gateway refuses it from its next request on); resolves with whether there was one. */
export async function removeToken(file: string, name: string): Promise<boolean> {
  const auth = await loadAuthFile(file);
  if (!Object.hasOwn(auth.tokens ?? {}, name)) return false;
  const tokens = Object.fromEntries(Object.entries(auth.tokens ?? {}).filter(([n]) => n !== name));
  await writeAuthFile(file, { ...auth, tokens });
  return true;
}
