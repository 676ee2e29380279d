// The labrun command line: parse `labrun <command> [args] [options]` with node:util parseArgs into one
// request per command, with a readable usage error (exit 3) for anything it cannot take.
import { parseArgs } from 'node:util';
import { ACTION_TYPES, DeviceId, RunId, mqttUrlVar, type ActionType } from '@labrun/contracts';
import type { z } from 'zod';
import { CliError, EXIT } from './exit-codes.js';

export const USAGE = `labrun — run lab-automation protocols and control them over MQTT

Usage:
  labrun run <protocol.json|protocol.ts> [--id <runId>] [--device <deviceId>]
  labrun pause|resume|stop|play|skip-delay <runId> [--by <name>] [--message <text>]
  labrun retry|skip|home|unlock <runId> [--by <name>] [--message <text>]
  labrun status [runId] [--json] [--watch]
  labrun ls [--json]
  labrun user add <name> --role <role> [--devices <id,…>] [--file <path>] [--password-stdin] | user remove <name> | user list
  labrun token add <name> --role <role> [--user <name>] [--file <path>] | token remove <name> | token list
  labrun types [dir]

Commands:
  run          create a run from a protocol, play it and follow it until it ends: a live progress bar on a
               terminal (press Enter to resume when it pauses; r, s, h or u to retry, skip, home or unlock
               when a command failed), one line per change otherwise. The protocol is
               a JSON protocol document, or a TypeScript/JavaScript file (.ts .mts .cts .js .mjs .cjs) whose
               default export is defineProtocol(...) from @labrun/protocol: it is run here, once, to record
               its commands, and only the resulting document is sent to the engine. A TypeScript protocol is
               type-checked first: one with type errors is refused (exit 3) with file, line and column
  pause        pause a running run
  resume       continue a paused run, whatever paused it
  stop         stop a run (the current command fails with "run stopped")
  play         start an idle run, or continue a paused one
  skip-delay   end the delay a run is waiting in
  retry        carry out again the command a run awaiting recovery failed on
  skip         mark the failed command skipped and go on with the next one
  home         home the machine (GRBL $H) while the run awaits recovery; the run still waits for retry or skip
  unlock       clear the controller's alarm lock (GRBL $X) while the run awaits recovery; the run still waits
  status       show one run's status (or every run's), once or as it changes (--watch)
  ls           list the runs the broker knows of
  user         add, change, remove or list the broker's users (MQTT logins with a password and a role) in
               the auth file; labrun user --help says more
  token        add, remove or list the gateway's bearer tokens (HTTP, with a role) in the auth file; add
               prints the new token, once; labrun token --help says more
  types        write (or update) dir's tsconfig.json so an editor finds @labrun/protocol's types for the
               protocol files there, wherever the folder is

Options:
  --url <url>    the MQTT broker (default: $MQTT_URL, or mqtt://127.0.0.1:1883)
  --id <runId>   the new run's id (default: a fresh one)
  --device <id>  the device to run on (default: the engine's)
  --by <name>    who acts, shown with the pause
  --message <t>  a note that goes with the action
  --json         print status documents as JSON
  --watch        keep printing until the run ends (Ctrl-C to stop watching)
  -h, --help     show this help

MQTT_USERNAME and MQTT_PASSWORD are used to log in to the broker when set. user and token change the auth file
(--file, default $LABRUN_AUTH_FILE); roles are viewer, operator, service and admin (docs/security.md).

Exit codes (run and status --watch: how the run ended; the others: what became of the command):
  0    the run succeeded; the action was accepted; the status was shown
  1    the run failed; the engine rejected the action (the reason is printed); no such run
  2    the run was stopped
  3    bad usage or input: an unknown option, a protocol that is not valid (the reason is printed)
  4    the MQTT broker could not be reached
  5    no engine answered within 5 s
  130  interrupted with Ctrl-C (the run goes on in the engine)
  141  the output was closed (labrun run … | head -2): ended quietly (the run goes on in the engine)`;

const OPTIONS = {
  url: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  id: { type: 'string' },
  device: { type: 'string' },
  by: { type: 'string' },
  message: { type: 'string' },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
} as const;
type OptionName = keyof typeof OPTIONS;

const COMMANDS = ['run', ...ACTION_TYPES, 'status', 'ls', 'help'] as const;
type CommandName = (typeof COMMANDS)[number];

const ALLOWED: Record<CommandName, OptionName[]> = {
  run: ['id', 'device'],
  ...(Object.fromEntries(ACTION_TYPES.map((a) => [a, ['by', 'message']])) as Record<ActionType, OptionName[]>),
  status: ['json', 'watch'],
  ls: ['json'],
  help: [],
};

export type Request =
  | { command: 'help' }
  | { command: 'user' | 'token' | 'types'; args: string[] }
  | { command: 'run'; url?: string; file: string; runId?: string; deviceId?: string }
  | { command: 'action'; url?: string; action: ActionType; runId: string; by?: string; message?: string }
  | { command: 'status'; url?: string; runId?: string; json: boolean; watch: boolean }
  | { command: 'ls'; url?: string; json: boolean };

const usageError = (message: string) => new CliError(EXIT.usage, `labrun: ${message}\nRun labrun --help for usage.`);

/** `value` checked against `schema`; a bad one is a usage error that starts with `what` (an option, or the value itself). */
function checked<T>(schema: z.ZodType<T>, value: string, what = JSON.stringify(value)): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw usageError(`${what}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export function parseCommandLine(argv: string[]): Request {
  // user and token have subcommands and options of their own: their commands read the rest.
  if (argv[0] === 'user' || argv[0] === 'token' || argv[0] === 'types') return { command: argv[0], args: argv.slice(1) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  if (values.help || name === 'help') return { command: 'help' };
  if (name === undefined) throw usageError(`which command? One of run, ${ACTION_TYPES.join(', ')}, status, ls, user, token`);
  if (!(COMMANDS as readonly string[]).includes(name)) throw usageError(`unknown command "${name}"`);
  const command = name as CommandName;

  for (const option of Object.keys(values) as OptionName[]) {
    if (option !== 'url' && !ALLOWED[command].includes(option)) throw usageError(`--${option} is not an option of labrun ${command}`);
  }
  const url = values.url === undefined ? {} : { url: checked(mqttUrlVar, values.url, '--url') };
  const expectArgs = (min: number, max: number, what: string) => {
    if (args.length < min || args.length > max) throw usageError(`labrun ${command} takes ${what}`);
  };

  switch (command) {
    case 'run':
      expectArgs(1, 1, 'one protocol file: labrun run <protocol.json|protocol.ts>');
      return {
        command,
        ...url,
        file: args[0]!,
        ...(values.id === undefined ? {} : { runId: checked(RunId, values.id, '--id') }),
        ...(values.device === undefined ? {} : { deviceId: checked(DeviceId, values.device, '--device') }),
      };
    case 'status':
      expectArgs(0, 1, 'at most one run id');
      return { command, ...url, ...(args[0] === undefined ? {} : { runId: checked(RunId, args[0]) }), json: values.json ?? false, watch: values.watch ?? false };
    case 'ls':
      expectArgs(0, 0, 'no arguments');
      return { command, ...url, json: values.json ?? false };
    case 'help':
      return { command };
    default:
      expectArgs(1, 1, `one run id: labrun ${command} <runId>`);
      return {
        command: 'action',
        ...url,
        action: command,
        runId: checked(RunId, args[0]!),
        ...(values.by === undefined ? {} : { by: values.by }),
        ...(values.message === undefined ? {} : { message: values.message }),
      };
  }
}
