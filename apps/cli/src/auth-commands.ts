// `labrun user …` and `labrun token …`: the users (MQTT logins) and bearer tokens (HTTP, for the gateway) of the
// auth file the broker and the gateway read. Both go through the broker's own code (@labrun/broker/auth-file and
// user-command), so the file is written exactly as `labrun-broker user` writes it.
import { parseArgs } from 'node:util';
import { ROLES, addToken, AuthFileError, loadAuthFile, removeToken, authCommandError, authFileOf, roleOf, runUserCommand, UsageError, type UserCommandIo } from '@labrun/auth';
import { EXIT } from './exit-codes.js';

export const TOKEN_USAGE = `usage:
  labrun token add <name> --role <${ROLES.join('|')}> [--user <name>] [--file <path>]
  labrun token remove <name> [--file <path>]
  labrun token list [--file <path>]
add prints the new token on stdout, once: the file keeps only its SHA-256 hash. Adding a name again replaces its
token. --user is who acts with the token (the "by" of its actions); it defaults to the token's name.
The file defaults to LABRUN_AUTH_FILE. The gateway applies changes by itself, from its next request on.`;

export type AuthCommandIo = UserCommandIo;

const processIo = (): AuthCommandIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });

/** `labrun user …`: the broker's user command under labrun's name, with labrun's exit code for bad usage. */
export async function userCommand(args: string[], io: AuthCommandIo = processIo()): Promise<number> {
  const code = await runUserCommand(args, io, 'labrun');
  return code === 2 ? EXIT.usage : code;
}

/** `labrun token add|remove|list`; resolves with the exit code (0 done, 1 the file could not be used, 3 bad usage). */
export async function tokenCommand(args: string[], io: AuthCommandIo = processIo()): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { role: { type: 'string' }, user: { type: 'string' }, file: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    });
    if (values.help) {
      io.stdout.write(`${TOKEN_USAGE}\n`);
      return EXIT.ok;
    }
    const [subcommand, name, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.map((e) => JSON.stringify(e)).join(' ')}`);
    if (subcommand !== 'add' && (values.role !== undefined || values.user !== undefined)) throw new UsageError(`--role and --user go with add only`);
    const { file, shown } = authFileOf(values.file, io.env);

    switch (subcommand) {
      case 'add': {
        if (name === undefined) throw new UsageError('add needs a token name');
        const role = roleOf(values.role);
        const { token, created } = await addToken(file, name, role, values.user === undefined ? {} : { user: values.user });
        // The token alone on stdout, so `TOKEN=$(labrun token add …)` works; what it is on stderr.
        io.stdout.write(`${token}\n`);
        io.stderr.write(
          `${created ? 'added' : 'replaced'} token ${name} (${role}, acting as ${values.user ?? name}) ${created ? 'to' : 'in'} ${shown}` +
            `${created ? '' : '; the old token no longer works'}. This is the only time the token is shown: keep it somewhere safe.\n`,
        );
        return EXIT.ok;
      }
      case 'remove': {
        if (name === undefined) throw new UsageError('remove needs a token name');
        if (!(await removeToken(file, name))) throw new AuthFileError(`there is no token ${name} in ${shown}: nothing was changed`);
        io.stdout.write(`removed token ${name} from ${shown}\n`);
        return EXIT.ok;
      }
      case 'list': {
        if (name !== undefined) throw new UsageError('list takes no token name');
        const auth = await loadAuthFile(file);
        for (const [token, { role, user, created }] of Object.entries(auth.tokens ?? {})) io.stdout.write(`${token} ${role} ${user}${created ? ` ${created}` : ''}\n`);
        return EXIT.ok;
      }
      default:
        throw new UsageError(subcommand === undefined ? 'say what to do: add, remove or list' : `unknown subcommand ${JSON.stringify(subcommand)}`);
    }
  } catch (error) {
    return authCommandError(error, io, TOKEN_USAGE, { failed: EXIT.failed, usage: EXIT.usage });
  }
}
