// `labrun token …` and `labrun user …` on an auth file, with streams standing in for the terminal.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authTokens, findToken, loadAuthFile, verifyPassword } from '@labrun/auth';
import { fakeTerminal, type FakeTerminal } from '@labrun/testkit';
import { tokenCommand, userCommand, type AuthCommandIo } from './auth-commands.js';

const fakeIo = (env: NodeJS.ProcessEnv = {}, stdin?: string): FakeTerminal & AuthCommandIo => fakeTerminal({ env, ...(stdin === undefined ? {} : { stdin }) });

describe('labrun token', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-token-'));
    file = path.join(dir, 'auth.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds a token and prints it alone on stdout, once; the file keeps only its hash', async () => {
    const io = fakeIo({ LABRUN_AUTH_FILE: file });
    expect(await tokenCommand(['add', 'lims', '--role', 'operator', '--user', 'lims-7'], io)).toBe(0);
    const token = io.out().trim();
    expect(io.out()).toMatch(/^lrt_[A-Za-z0-9_-]{43}\n$/);
    expect(io.err()).toBe(`added token lims (operator, acting as lims-7) to ${file}. This is the only time the token is shown: keep it somewhere safe.\n`);
    expect(readFileSync(file, 'utf8')).not.toContain(token.slice(4));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(findToken(authTokens(await loadAuthFile(file)), token)).toMatchObject({ name: 'lims', role: 'operator', user: 'lims-7' });

    const again = fakeIo();
    expect(await tokenCommand(['add', 'lims', '--role', 'viewer', '--file', file], again)).toBe(0);
    expect(again.err()).toContain('replaced token lims (viewer, acting as lims)');
    expect(again.err()).toContain('the old token no longer works');
    expect(findToken(authTokens(await loadAuthFile(file)), token)).toBeUndefined();
  });

  it('lists and removes tokens', async () => {
    await tokenCommand(['add', 'wall-screen', '--role', 'viewer', '--file', file], fakeIo());
    await tokenCommand(['add', 'lims', '--role', 'service', '--file', file], fakeIo());
    const list = fakeIo();
    expect(await tokenCommand(['list', '--file', file], list)).toBe(0);
    expect(list.out()).toMatch(/^wall-screen viewer wall-screen \d{4}-\d\d-\d\dT[\d:.]+Z\nlims service lims \S+Z\n$/);

    const remove = fakeIo();
    expect(await tokenCommand(['remove', 'wall-screen', '--file', file], remove)).toBe(0);
    expect(remove.out()).toBe(`removed token wall-screen from ${file}\n`);
    const again = fakeIo();
    expect(await tokenCommand(['remove', 'wall-screen', '--file', file], again)).toBe(1);
    expect(again.err()).toBe(`there is no token wall-screen in ${file}: nothing was changed\n`);
  });

  it('explains bad usage with exit 3 and the usage, and a broken file with exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['add', 'lims', '--file', file], /add needs --role: one of viewer, operator, service, admin/],
      [['add', 'lims', '--role', 'root', '--file', file], /--role must be one of viewer, operator, service, admin, not "root"/],
      [['add', 'lims', '--role', 'viewer'], /Pass --file <path> or set LABRUN_AUTH_FILE/],
      [['list', '--role', 'viewer', '--file', file], /--role and --user go with add only/],
      [['rotate', '--file', file], /unknown subcommand "rotate"/],
      [['add', 'lims', '--role', 'viewer', '--file', file, '--expires', '1d'], /--expires/],
    ];
    for (const [args, message] of cases) {
      const io = fakeIo();
      expect(await tokenCommand(args, io), args.join(' ')).toBe(3);
      expect(io.err()).toMatch(message);
      expect(io.err()).toContain('usage:\n  labrun token add <name>');
    }
    const badName = fakeIo();
    expect(await tokenCommand(['add', 'has space', '--role', 'viewer', '--file', file], badName)).toBe(1);
    expect(badName.err()).toContain('cannot add token "has space": a token name is 1 to 64 letters');
    expect(badName.out()).toBe('');
  });
});

describe('labrun user', () => {
  it('is the broker’s user command under labrun’s name, with exit 3 for bad usage', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-user-'));
    try {
      const file = path.join(dir, 'auth.json');
      const add = fakeIo({}, 'pipette-42\n');
      expect(await userCommand(['add', 'ana', '--role', 'operator', '--file', file, '--password-stdin'], add)).toBe(0);
      expect(add.out()).toBe(`added user ana (operator) to ${file}\n`);
      expect(await verifyPassword('pipette-42', (await loadAuthFile(file)).users.ana!.password)).toBe(true);

      const bad = fakeIo();
      expect(await userCommand(['add', 'bob', '--file', file], bad)).toBe(3);
      expect(bad.err()).toContain('  labrun user add <name> --role <viewer|operator|service|admin>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
