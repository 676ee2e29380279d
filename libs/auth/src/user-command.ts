// `labrun-broker user add|remove|list` (and `labrun user …`, which runs this same code): manage the users of an
// auth file from a shell. The password is asked for on the terminal without echo, or read from stdin with
// --password-stdin; only its scrypt hash is written.
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { isRole, ROLES, type Role } from './acl.js';
import { addUser, AuthFileError, loadAuthFile, MIN_PASSWORD_LENGTH, removeUser } from './auth-file.js';

/** The usage of the user command, as run by `program` (`labrun-broker`, or `labrun`). */
export const userUsage = (program: string) => `usage:
  ${program} user add <name> --role <${ROLES.join('|')}> [--devices <id,id,…> | --all-devices] [--file <path>] [--password-stdin]
  ${program} user remove <name> [--file <path>]
  ${program} user list [--file <path>]
The file defaults to LABRUN_AUTH_FILE. Without --password-stdin, add asks for the password on the terminal.
--devices holds a service user (an engine of a fleet, a hardware service) to those devices; --all-devices lifts
that. Without either, an existing service user keeps its devices.
A running broker applies changes when it receives SIGHUP (kill -HUP <pid>).`;

export const USER_USAGE = userUsage('labrun-broker');

export interface UserCommandIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** A mistake in how an auth-file command (`user`, `labrun token`) was called: its usage, and a usage exit code. */
export class UsageError extends Error {}

/** The auth file a command works on: `--file`, else LABRUN_AUTH_FILE; and the path to show for it. */
export function authFileOf(file: string | undefined, env: NodeJS.ProcessEnv): { file: string; shown: string } {
  const chosen = file ?? (env.LABRUN_AUTH_FILE || undefined);
  if (chosen === undefined) throw new UsageError('which auth file? Pass --file <path> or set LABRUN_AUTH_FILE');
  return { file: chosen, shown: path.resolve(chosen) };
}

/** The `--role` that `add` needs. */
export function roleOf(role: string | undefined): Role {
  if (role === undefined) throw new UsageError(`add needs --role: one of ${ROLES.join(', ')}`);
  if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(role)}`);
  return role;
}

/** `--devices robot-1,robot-2` → the list; `--all-devices` → null (every device); neither → undefined (as it was). */
export function devicesOf(devices: string | undefined, allDevices: boolean, role: Role): string[] | null | undefined {
  if (devices !== undefined && allDevices) throw new UsageError('give --devices or --all-devices, not both');
  if (devices === undefined) return allDevices ? null : undefined;
  if (role !== 'service') throw new UsageError(`--devices is for service users (engines, hardware services), not ${role}`);
  const list = devices.split(',').map((d) => d.trim());
  if (list.some((d) => d === '')) throw new UsageError(`--devices takes device ids separated by commas, like robot-1,robot-2, not ${JSON.stringify(devices)}`);
  return list;
}

/**
 * How an auth-file command ends on an error: the file could not be used (`codes.failed`), or the command was
 * called wrongly (`codes.usage`, with the usage).
 */
export function authCommandError(error: unknown, io: Pick<UserCommandIo, 'stderr'>, usage: string, codes: { failed: number; usage: number }): number {
  if (error instanceof AuthFileError) {
    io.stderr.write(`${error.message}\n`);
    return codes.failed;
  }
  // parseArgs reports unknown options and missing values with a TypeError carrying an ERR_PARSE_ARGS_* code.
  const parseError = (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true;
  if (error instanceof UsageError || parseError) {
    io.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return codes.usage;
  }
  io.stderr.write(`could not change the auth file: ${(error as Error).message}\n`);
  return codes.failed;
}

/** Ask for a password on a terminal without echoing it. */
export function promptPassword(prompt: string, io: Pick<UserCommandIo, 'stdin' | 'stderr'>): Promise<string> {
  const { stdin, stderr } = io;
  return new Promise((resolve, reject) => {
    stderr.write(prompt);
    stdin.setRawMode?.(true);
    stdin.setEncoding('utf8');
    let password = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(password);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new AuthFileError('interrupted: nothing was changed'));
        if (ch === '\u0004' && password === '') return finish(new AuthFileError('no password given: nothing was changed'));
        if (ch === '\u007f' || ch === '\b') password = [...password].slice(0, -1).join('');
        else if (ch >= ' ') password += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The whole of stdin as the password, without the line ending a shell or `echo` adds. */
export async function readPasswordFromStdin(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (/[\r\n]/.test(password)) throw new AuthFileError('the password on stdin must be a single line');
  return password;
}

async function askPassword(name: string, fromStdin: boolean, io: UserCommandIo): Promise<string> {
  if (fromStdin) return readPasswordFromStdin(io.stdin);
  if (!io.stdin.isTTY) throw new UsageError('stdin is not a terminal, so the password cannot be asked for: pipe it in with --password-stdin');
  const password = await promptPassword(`Password for ${name} (at least ${MIN_PASSWORD_LENGTH} characters): `, io);
  const again = await promptPassword('The same password again: ', io);
  if (password !== again) throw new AuthFileError('the two passwords differ: nothing was changed');
  return password;
}

/**
 * Run `user <subcommand> …`; resolves with the exit code (0 done, 1 the file could not be used, 2 bad arguments).
 * `program` is the command's name in the usage it prints.
 */
export async function runUserCommand(args: string[], io: UserCommandIo, program = 'labrun-broker'): Promise<number> {
  const usage = userUsage(program);
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        file: { type: 'string' },
        devices: { type: 'string' },
        'all-devices': { type: 'boolean', default: false },
        'password-stdin': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return 0;
    }
    const [subcommand, name, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.map((e) => JSON.stringify(e)).join(' ')}`);
    const { file, shown } = authFileOf(values.file, io.env);

    switch (subcommand) {
      case 'add': {
        if (name === undefined) throw new UsageError('add needs a user name');
        const role = roleOf(values.role);
        const devices = devicesOf(values.devices, values['all-devices'], role);
        const password = await askPassword(name, values['password-stdin'], io);
        const added = await addUser(file, name, role, password, devices === undefined ? {} : { devices });
        const held = added.devices ? `, devices ${added.devices.join(',')}` : '';
        io.stdout.write(`${added.created ? 'added' : 'updated'} user ${name} (${role}${held}) ${added.created ? 'to' : 'in'} ${shown}\n`);
        return 0;
      }
      case 'remove': {
        if (name === undefined) throw new UsageError('remove needs a user name');
        if (!(await removeUser(file, name))) throw new AuthFileError(`there is no user ${name} in ${shown}: nothing was changed`);
        io.stdout.write(`removed user ${name} from ${shown}\n`);
        return 0;
      }
      case 'list': {
        if (name !== undefined) throw new UsageError(`list takes no user name`);
        const auth = await loadAuthFile(file);
        // `name role`, and a third column for a service user held to devices: `engine-e1 service robot-1,robot-2`.
        for (const [user, { role, devices }] of Object.entries(auth.users)) io.stdout.write(`${user} ${role}${devices ? ` ${devices.join(',')}` : ''}\n`);
        return 0;
      }
      default:
        throw new UsageError(subcommand === undefined ? 'say what to do: add, remove or list' : `unknown subcommand ${JSON.stringify(subcommand)}`);
    }
  } catch (error) {
    return authCommandError(error, io, usage, { failed: 1, usage: 2 });
  }
}
