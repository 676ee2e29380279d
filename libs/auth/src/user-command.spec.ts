// `user add|remove|list` as a shell user runs it: the password from a terminal (never echoed) or from stdin.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAuthFile, verifyPassword } from './auth-file.js';
import { fakeTerminal, type FakeTerminal } from '@labrun/testkit';
import { runUserCommand, type UserCommandIo } from './user-command.js';

/** Streams standing in for a terminal (`tty: true`) or a pipe. */
const fakeIo = (options: { tty: boolean; env?: NodeJS.ProcessEnv }): FakeTerminal & UserCommandIo => fakeTerminal(options);

describe('the user command', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'labrun-user-'));
    file = path.join(dir, 'auth.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds a user with the password piped to --password-stdin, dropping the line ending', async () => {
    const io = fakeIo({ tty: false });
    io.stdin.end('pipette-42\n');
    expect(await runUserCommand(['add', 'ana', '--role', 'operator', '--file', file, '--password-stdin'], io)).toBe(0);
    expect(io.out()).toBe(`added user ana (operator) to ${file}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const auth = await loadAuthFile(file);
    expect(await verifyPassword('pipette-42', auth.users.ana!.password)).toBe(true);
  });

  it('asks twice on a terminal, in raw mode, without echoing the password', async () => {
    const io = fakeIo({ tty: true, env: { LABRUN_AUTH_FILE: file } });
    const done = runUserCommand(['add', 'bob', '--role', 'viewer'], io);
    // Typed key by key: a typo, a backspace, then Enter; then the same again.
    for (const key of ['c', 'e', 'n', 't', 'r', 'i', 'x', '\u007f', 'f', 'u', 'g', 'e', '\r']) io.stdin.write(key);
    await new Promise((resolve) => setTimeout(resolve, 20));
    io.stdin.write('centrifuge\r');
    expect(await done).toBe(0);
    expect(io.err()).toContain('Password for bob');
    expect(io.err()).toContain('The same password again');
    expect(io.err() + io.out()).not.toContain('centrifuge');
    expect(io.rawModes).toEqual([true, false, true, false]);
    expect(await verifyPassword('centrifuge', (await loadAuthFile(file)).users.bob!.password)).toBe(true);
  });

  it('changes nothing when the two passwords differ', async () => {
    const io = fakeIo({ tty: true });
    const done = runUserCommand(['add', 'bob', '--role', 'viewer', '--file', file], io);
    io.stdin.write('centrifuge\r');
    await new Promise((resolve) => setTimeout(resolve, 20));
    io.stdin.write('centrifugE\r');
    expect(await done).toBe(1);
    expect(io.err()).toContain('the two passwords differ: nothing was changed');
    expect(() => statSync(file)).toThrow();
  });

  it('will not wait for a password on a pipe without --password-stdin', async () => {
    const io = fakeIo({ tty: false });
    expect(await runUserCommand(['add', 'ana', '--role', 'operator', '--file', file], io)).toBe(2);
    expect(io.err()).toContain('pipe it in with --password-stdin');
  });

  it('explains a missing or wrong role, a missing file, and an unknown option', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['add', 'ana', '--file', file], {}, /add needs --role: one of viewer, operator, service, admin/],
      [['add', 'ana', '--role', 'root', '--file', file], {}, /--role must be one of viewer, operator, service, admin, not "root"/],
      [['add', 'ana', '--role', 'viewer'], {}, /Pass --file <path> or set LABRUN_AUTH_FILE/],
      [['add', 'ana', '--role', 'viewer', '--file', file, '--colour'], {}, /--colour/],
      [['frobnicate', '--file', file], {}, /unknown subcommand "frobnicate"/],
    ];
    for (const [args, env, message] of cases) {
      const io = fakeIo({ tty: false, env });
      expect(await runUserCommand(args, io), args.join(' ')).toBe(2);
      expect(io.err()).toMatch(message);
      expect(io.err()).toContain('usage:');
    }
  });

  it('lists and removes users', async () => {
    for (const [name, role] of [
      ['ana', 'operator'],
      ['engine', 'service'],
    ] as const) {
      const io = fakeIo({ tty: false });
      io.stdin.end(`${name}-password`);
      expect(await runUserCommand(['add', name, '--role', role, '--file', file, '--password-stdin'], io)).toBe(0);
    }
    const list = fakeIo({ tty: false });
    expect(await runUserCommand(['list', '--file', file], list)).toBe(0);
    expect(list.out()).toBe('ana operator\nengine service\n');

    const remove = fakeIo({ tty: false });
    expect(await runUserCommand(['remove', 'ana', '--file', file], remove)).toBe(0);
    expect(remove.out()).toBe(`removed user ana from ${file}\n`);
    const again = fakeIo({ tty: false });
    expect(await runUserCommand(['remove', 'ana', '--file', file], again)).toBe(1);
    expect(again.err()).toContain('there is no user ana');
    expect(readFileSync(file, 'utf8')).not.toContain('"ana"');
  });

  it('holds a service user to --devices, shows them in the list, and lifts them with --all-devices', async () => {
    const add = fakeIo({ tty: false });
    add.stdin.end('engine-secret');
    expect(await runUserCommand(['add', 'engine-e1', '--role', 'service', '--devices', 'robot-1, robot-2', '--file', file, '--password-stdin'], add)).toBe(0);
    expect(add.out()).toBe(`added user engine-e1 (service, devices robot-1,robot-2) to ${file}\n`);
    expect((await loadAuthFile(file)).users['engine-e1']!.devices).toEqual(['robot-1', 'robot-2']);

    const gateway = fakeIo({ tty: false });
    gateway.stdin.end('gateway-secret');
    expect(await runUserCommand(['add', 'gateway', '--role', 'service', '--file', file, '--password-stdin'], gateway)).toBe(0);
    const list = fakeIo({ tty: false });
    expect(await runUserCommand(['list', '--file', file], list)).toBe(0);
    expect(list.out()).toBe('engine-e1 service robot-1,robot-2\ngateway service\n');

    // A new password alone keeps the devices; --all-devices lifts them.
    const rotate = fakeIo({ tty: false });
    rotate.stdin.end('engine-secret-2');
    expect(await runUserCommand(['add', 'engine-e1', '--role', 'service', '--file', file, '--password-stdin'], rotate)).toBe(0);
    expect(rotate.out()).toBe(`updated user engine-e1 (service, devices robot-1,robot-2) in ${file}\n`);
    const lift = fakeIo({ tty: false });
    lift.stdin.end('engine-secret-3');
    expect(await runUserCommand(['add', 'engine-e1', '--role', 'service', '--all-devices', '--file', file, '--password-stdin'], lift)).toBe(0);
    expect(lift.out()).toBe(`updated user engine-e1 (service) in ${file}\n`);
  });

  it('explains --devices used wrongly', async () => {
    const cases: [string[], RegExp, number][] = [
      [['add', 'ana', '--role', 'operator', '--devices', 'robot-1'], /--devices is for service users \(engines, hardware services\), not operator/, 2],
      [['add', 'e1', '--role', 'service', '--devices', 'robot-1,,robot-2'], /--devices takes device ids separated by commas/, 2],
      [['add', 'e1', '--role', 'service', '--devices', 'robot-1', '--all-devices'], /give --devices or --all-devices, not both/, 2],
      [['add', 'e1', '--role', 'service', '--devices', 'robot-1,robot-1'], /devices: names device robot-1 twice/, 1],
      [['add', 'e1', '--role', 'service', '--devices', 'hw/1'], /not a valid device id "hw\/1"/, 1],
    ];
    for (const [args, message, code] of cases) {
      const io = fakeIo({ tty: false });
      io.stdin.end('long enough');
      expect(await runUserCommand([...args, '--file', file, '--password-stdin'], io), args.join(' ')).toBe(code);
      expect(io.err()).toMatch(message);
    }
    expect(() => statSync(file)).toThrow();
  });

  it('names the program that runs it in its usage (labrun-broker, or labrun for labrun user)', async () => {
    const broker = fakeIo({ tty: false });
    expect(await runUserCommand(['--help'], broker)).toBe(0);
    expect(broker.out()).toContain('  labrun-broker user add <name> --role <viewer|operator|service|admin>');
    const labrun = fakeIo({ tty: false });
    expect(await runUserCommand(['list'], labrun, 'labrun')).toBe(2);
    expect(labrun.err()).toContain('  labrun user list [--file <path>]');
    expect(labrun.err()).not.toContain('labrun-broker');
  });
});
