// The auth file: password hashes, the file's format and its checks, and adding and removing users.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addToken,
  addUser,
  AuthFileError,
  authTokens,
  authUsers,
  findToken,
  hashPassword,
  hashToken,
  loadAuthFile,
  newToken,
  parseAuthFile,
  parsePasswordHash,
  removeToken,
  removeUser,
  verifyPassword,
  type PasswordHash,
} from './auth-file.js';

// Cheap parameters keep the tests quick where the cost does not matter.
const CHEAP = { N: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('hashes as scrypt$N$r$p$salt$hash with the default costs, and verifies only the same password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(stored).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword(Buffer.from('correct horse battery staple'), stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash, so the same password never hashes the same twice', async () => {
    const [a, b] = [await hashPassword('same password', CHEAP), await hashPassword('same password', CHEAP)];
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  it('verifies hashes made with other costs, as written in the hash', async () => {
    const stored = await hashPassword('other costs', { N: 2048, r: 4, p: 2 });
    expect(stored.startsWith('scrypt$2048$4$2$')).toBe(true);
    expect((parsePasswordHash(stored) as PasswordHash).hash).toHaveLength(32);
    expect(await verifyPassword('other costs', stored)).toBe(true);
  });

  it('says what is wrong with a string that is not a hash, and never verifies it', async () => {
    const salt = Buffer.alloc(16, 1).toString('base64');
    const hash = Buffer.alloc(32, 2).toString('base64');
    const cases: [string, RegExp][] = [
      ['hunter2', /expected scrypt\$<N>\$<r>\$<p>/],
      [`bcrypt$16384$8$1$${salt}$${hash}`, /expected scrypt/],
      [`scrypt$1000$8$1$${salt}$${hash}`, /N must be a power of two/],
      [`scrypt$16384$0$1$${salt}$${hash}`, /r must be from 1 to 64/],
      [`scrypt$16384$8$99$${salt}$${hash}`, /p must be from 1 to 16/],
      [`scrypt$1048576$64$1$${salt}$${hash}`, /more than 256 MiB/],
      [`scrypt$16384$8$1$not*base64$${hash}`, /base64/],
      [`scrypt$16384$8$1$AAAA$${hash}`, /salt must be at least 8 bytes/],
      [`scrypt$16384$8$1$${salt}$AAAA`, /hash must be 16 to 128 bytes/],
    ];
    for (const [text, reason] of cases) {
      expect(parsePasswordHash(text), text).toMatch(reason);
      expect(await verifyPassword('hunter2', text)).toBe(false);
    }
  });
});

describe('the auth file format', () => {
  const file = '/etc/labrun/auth.json';
  let valid: string;
  beforeEach(async () => {
    valid = await hashPassword('a password', CHEAP);
  });

  it('reads users with their role and hash', () => {
    const auth = parseAuthFile(JSON.stringify({ users: { ana: { password: valid, role: 'operator' }, 'engine-1': { password: valid, role: 'service' } } }), file);
    const users = authUsers(auth);
    expect([...users.keys()]).toEqual(['ana', 'engine-1']);
    expect(users.get('ana')!.role).toBe('operator');
    expect(users.get('ana')!.password.N).toBe(1024);
  });

  it("reads a service user's devices, and a user without them as free to act for every device", () => {
    const auth = parseAuthFile(JSON.stringify({ users: { 'engine-e1': { password: valid, role: 'service', devices: ['robot-1', 'robot-2'] }, gateway: { password: valid, role: 'service' } } }), file);
    const users = authUsers(auth);
    expect(users.get('engine-e1')!.devices).toEqual(new Set(['robot-1', 'robot-2']));
    expect(users.get('gateway')!.devices).toBeUndefined();
  });

  it('says what is wrong with a list of devices, and refuses devices on a user that is not a service', () => {
    const text = JSON.stringify({
      users: {
        a: { password: valid, role: 'service', devices: 'robot-1' },
        b: { password: valid, role: 'service', devices: [] },
        c: { password: valid, role: 'service', devices: ['robot-1', 'robot/2'] },
        d: { password: valid, role: 'service', devices: ['robot-1', 'robot-1'] },
        e: { password: valid, role: 'operator', devices: ['robot-1'] },
      },
    });
    let message = '';
    try {
      parseAuthFile(text, file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('users.a.devices: expected a list of device ids, like ["robot-1", "robot-2"]');
    expect(message).toContain('users.b.devices: expected at least one device id');
    expect(message).toContain(`users.c.devices: not a valid device id "robot/2": device id must not contain '+', '#', '/' or control characters`);
    expect(message).toContain('users.d.devices: names device robot-1 twice');
    expect(message).toContain('users.e.devices: only a service user can be held to devices, not an operator');
  });

  it('accepts a file without users (nobody can log in)', () => {
    expect(authUsers(parseAuthFile('{ "users": {} }', file)).size).toBe(0);
  });

  it('names the file and says it is not JSON', () => {
    expect(() => parseAuthFile('{ users: ', file)).toThrow(AuthFileError);
    expect(() => parseAuthFile('{ users: ', file)).toThrow(/^auth file \/etc\/labrun\/auth.json is not valid JSON: /);
  });

  it('names the file and each thing wrong in it, by where it is', () => {
    const text = JSON.stringify({
      users: {
        ana: { password: valid, role: 'superuser' },
        bob: { password: 'hunter2', role: 'viewer' },
        cy: { password: valid, role: 'viewer', email: 'cy@lab' },
        'has space': { password: valid, role: 'viewer' },
      },
    });
    let message = '';
    try {
      parseAuthFile(text, file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^auth file \/etc\/labrun\/auth.json is not valid:\n/);
    expect(message).toContain('users.ana.role: expected one of viewer, operator, service, admin');
    expect(message).toContain('users.bob.password: not a password hash: expected scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>');
    expect(message).toMatch(/users\.cy: .*email/);
    expect(message).toContain('users.has space: not a valid user name: a user name is 1 to 64 letters');
  });

  it('ignores a user called __proto__ instead of letting it change how objects behave', () => {
    const text = `{ "users": { "__proto__": { "password": "${valid}", "role": "admin" }, "ana": { "password": "${valid}", "role": "viewer" } } }`;
    expect([...authUsers(parseAuthFile(text, file)).keys()]).toEqual(['ana']);
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });

  it('refuses a file that is not { "users": … }', () => {
    expect(() => parseAuthFile('[]', file)).toThrow(/\(the whole file\): expected \{ "users": \{ … \} \}/);
    expect(() => parseAuthFile('{ "users": [] }', file)).toThrow(/users: expected an object of users by name/);
    expect(() => parseAuthFile('{ "users": {}, "admins": {} }', file)).toThrow(/admins/);
  });
});

describe('adding and removing users', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-auth-'));
    file = path.join(dir, 'conf', 'auth.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file readable by its owner only, with the hash and never the password', async () => {
    expect(await addUser(file, 'ana', 'operator', 'pipette-42')).toEqual({ created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('pipette-42');
    const auth = await loadAuthFile(file);
    expect(auth.users.ana!.role).toBe('operator');
    expect(await verifyPassword('pipette-42', auth.users.ana!.password)).toBe(true);
  });

  it('changes an existing user and keeps the others; the file stays 0600', async () => {
    await addUser(file, 'ana', 'operator', 'pipette-42');
    await addUser(file, 'bob', 'viewer', 'centrifuge-7');
    chmodSync(file, 0o644);
    expect(await addUser(file, 'ana', 'admin', 'new-password')).toEqual({ created: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const auth = await loadAuthFile(file);
    expect(Object.keys(auth.users)).toEqual(['ana', 'bob']);
    expect(auth.users.ana!.role).toBe('admin');
    expect(await verifyPassword('new-password', auth.users.ana!.password)).toBe(true);
    expect(await verifyPassword('centrifuge-7', auth.users.bob!.password)).toBe(true);
  });

  it('refuses a bad name, a bad role or a short password, and leaves the file alone', async () => {
    await addUser(file, 'ana', 'operator', 'pipette-42');
    const before = readFileSync(file, 'utf8');
    await expect(addUser(file, 'has space', 'viewer', 'long enough')).rejects.toThrow(/cannot add user "has space": a user name is/);
    await expect(addUser(file, 'bob', 'root' as never, 'long enough')).rejects.toThrow(/role must be one of viewer, operator, service, admin/);
    await expect(addUser(file, 'bob', 'viewer', 'short')).rejects.toThrow(/at least 8 characters/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it("writes a service user's devices, keeps them when only the password changes, and lifts them with null", async () => {
    expect(await addUser(file, 'engine-e1', 'service', 'engine-secret', { devices: ['robot-1', 'robot-2'] })).toEqual({ created: true, devices: ['robot-1', 'robot-2'] });
    expect((await loadAuthFile(file)).users['engine-e1']!.devices).toEqual(['robot-1', 'robot-2']);
    expect(await addUser(file, 'engine-e1', 'service', 'new-secret-1')).toEqual({ created: false, devices: ['robot-1', 'robot-2'] });
    expect(await addUser(file, 'engine-e1', 'service', 'new-secret-2', { devices: ['robot-3'] })).toEqual({ created: false, devices: ['robot-3'] });
    expect(await addUser(file, 'engine-e1', 'service', 'new-secret-3', { devices: null })).toEqual({ created: false });
    expect((await loadAuthFile(file)).users['engine-e1']!.devices).toBeUndefined();
    // A user that stops being a service drops its devices.
    await addUser(file, 'engine-e2', 'service', 'engine-secret', { devices: ['robot-1'] });
    expect(await addUser(file, 'engine-e2', 'operator', 'engine-secret')).toEqual({ created: false });
    await expect(addUser(file, 'ana', 'operator', 'pipette-42', { devices: ['robot-1'] })).rejects.toThrow(/only a service user can be held to devices, not operator/);
    await expect(addUser(file, 'engine-e3', 'service', 'engine-secret', { devices: ['a/b'] })).rejects.toThrow(/cannot add user engine-e3: devices: not a valid device id "a\/b"/);
  });

  it('refuses to add to a file that is broken, rather than overwrite it', async () => {
    writeFileSync(path.join(dir, 'broken.json'), '{ "users": ');
    await expect(addUser(path.join(dir, 'broken.json'), 'ana', 'operator', 'pipette-42')).rejects.toThrow(/is not valid JSON/);
    expect(readFileSync(path.join(dir, 'broken.json'), 'utf8')).toBe('{ "users": ');
  });

  it('removes a user', async () => {
    await addUser(file, 'ana', 'operator', 'pipette-42');
    await addUser(file, 'bob', 'viewer', 'centrifuge-7');
    expect(await removeUser(file, 'ana')).toBe(true);
    expect(await removeUser(file, 'ana')).toBe(false);
    expect(Object.keys((await loadAuthFile(file)).users)).toEqual(['bob']);
  });

  it('says when the file does not exist', async () => {
    await expect(loadAuthFile(path.join(dir, 'missing.json'))).rejects.toThrow(/^auth file .*missing\.json does not exist$/);
  });
});

describe('bearer tokens for the gateway', () => {
  const file = '/etc/labrun/auth.json';
  let dir: string;
  let authFile: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-tokens-'));
    authFile = path.join(dir, 'auth.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes tokens of 256 random bits with a recognisable prefix, never the same twice', () => {
    const a = newToken();
    expect(a).toMatch(/^lrt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(4), 'base64url')).toHaveLength(32);
    expect(newToken()).not.toBe(a);
  });

  it('stores a token as the SHA-256 of it, and finds only the token it was made from', () => {
    const token = newToken();
    const stored = hashToken(token);
    expect(stored).toMatch(/^sha256\$[A-Za-z0-9+/]{43}=$/);
    expect(stored).not.toContain(token.slice(4));
    const auth = parseAuthFile(
      JSON.stringify({ users: {}, tokens: { lims: { hash: stored, role: 'operator', user: 'lims-7' }, other: { hash: hashToken(newToken()), role: 'viewer', user: 'bo' } } }),
      file,
    );
    const tokens = authTokens(auth);
    expect(findToken(tokens, token)).toMatchObject({ name: 'lims', role: 'operator', user: 'lims-7' });
    expect(findToken(tokens, `${token}x`)).toBeUndefined();
    expect(findToken(tokens, token.slice(0, -1))).toBeUndefined();
    expect(findToken(tokens, '')).toBeUndefined();
    expect(findToken([], token)).toBeUndefined();
  });

  it('reads a file without tokens as it always did, and says what is wrong with a token entry', () => {
    expect(authTokens(parseAuthFile('{ "users": {} }', file))).toEqual([]);
    const text = JSON.stringify({
      users: {},
      tokens: {
        a: { hash: 'lrt_plain-token', role: 'viewer', user: 'a' },
        b: { hash: hashToken('x'), role: 'root', user: 'b' },
        c: { hash: hashToken('y'), role: 'viewer' },
        'no spaces': { hash: hashToken('z'), role: 'viewer', user: 'd' },
        e: { hash: hashToken('w'), role: 'viewer', user: 'e', created: 'yesterday' },
      },
    });
    let message = '';
    try {
      parseAuthFile(text, file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('tokens.a.hash: not a token hash: expected sha256$<the SHA-256 digest of the token, base64> (make one with labrun token add)');
    expect(message).toContain('tokens.b.role: expected one of viewer, operator, service, admin');
    expect(message).toMatch(/tokens\.c\.user: /);
    expect(message).toContain('tokens.no spaces: not a valid token name: a token name is 1 to 64 letters');
    expect(message).toContain('tokens.e.created: expected the time the token was made');
    expect(() => parseAuthFile('{ "users": {}, "tokens": [] }', file)).toThrow(/tokens: expected an object of tokens by name/);
  });

  it('adds a token (only its hash is written), keeps the users, and replaces a token of the same name', async () => {
    await addUser(authFile, 'ana', 'operator', 'pipette-42');
    const first = await addToken(authFile, 'lims', 'operator', { user: 'lims-7', now: new Date('2026-11-24T10:00:00.000Z') });
    expect(first.created).toBe(true);
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(authFile, 'utf8')).not.toContain(first.token.slice(4));
    let auth = await loadAuthFile(authFile);
    expect(auth.tokens!.lims).toEqual({ hash: hashToken(first.token), role: 'operator', user: 'lims-7', created: '2026-11-24T10:00:00.000Z' });
    expect(await verifyPassword('pipette-42', auth.users.ana!.password)).toBe(true);

    const second = await addToken(authFile, 'lims', 'viewer');
    expect(second.created).toBe(false);
    auth = await loadAuthFile(authFile);
    expect(findToken(authTokens(auth), first.token)).toBeUndefined();
    expect(findToken(authTokens(auth), second.token)).toMatchObject({ name: 'lims', role: 'viewer', user: 'lims' });

    // Users added or removed later leave the tokens alone.
    await addUser(authFile, 'bob', 'viewer', 'centrifuge-7');
    await removeUser(authFile, 'ana');
    expect(findToken(authTokens(await loadAuthFile(authFile)), second.token)?.name).toBe('lims');
  });

  it('removes a token, and refuses a bad name, role or user without touching the file', async () => {
    const { token } = await addToken(authFile, 'ci', 'viewer');
    const before = readFileSync(authFile, 'utf8');
    await expect(addToken(authFile, 'has space', 'viewer')).rejects.toThrow(/cannot add token "has space": a token name is/);
    await expect(addToken(authFile, 'x', 'root' as never)).rejects.toThrow(/role must be one of/);
    await expect(addToken(authFile, 'x', 'viewer', { user: '__proto__' })).rejects.toThrow(/cannot add token x for user "__proto__": a user name is/);
    expect(readFileSync(authFile, 'utf8')).toBe(before);
    expect(await removeToken(authFile, 'ci')).toBe(true);
    expect(await removeToken(authFile, 'ci')).toBe(false);
    expect(findToken(authTokens(await loadAuthFile(authFile)), token)).toBeUndefined();
  });
});
