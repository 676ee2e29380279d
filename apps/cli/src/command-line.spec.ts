// Unit tests of the command line: what each command takes, and how a mistake is explained (exit 3).
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './command-line.js';
import { CliError } from './exit-codes.js';

const usageError = (argv: string[]): CliError => {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
};

describe('parseCommandLine', () => {
  it('reads labrun run with its options, in any order', () => {
    expect(parseCommandLine(['run', 'p.json', '--id', 'r-1', '--device', 'sim-2', '--url', 'mqtt://lab:1883'])).toEqual({
      command: 'run',
      file: 'p.json',
      runId: 'r-1',
      deviceId: 'sim-2',
      url: 'mqtt://lab:1883',
    });
    expect(parseCommandLine(['--url=mqtt://lab:1883', 'run', 'p.json'])).toEqual({ command: 'run', file: 'p.json', url: 'mqtt://lab:1883' });
  });

  it.each(['pause', 'resume', 'stop', 'play', 'skip-delay', 'retry', 'skip', 'home', 'unlock'])('reads labrun %s <runId> [--by] [--message]', (action) => {
    expect(parseCommandLine([action, 'r-1', '--by', 'ana', '--message', 'checking'])).toEqual({ command: 'action', action, runId: 'r-1', by: 'ana', message: 'checking' });
  });

  it('reads status and ls', () => {
    expect(parseCommandLine(['status'])).toEqual({ command: 'status', json: false, watch: false });
    expect(parseCommandLine(['status', 'r-1', '--json', '--watch'])).toEqual({ command: 'status', runId: 'r-1', json: true, watch: true });
    expect(parseCommandLine(['ls', '--json'])).toEqual({ command: 'ls', json: true });
  });

  it('hands user and token, with everything after them, to their own commands', () => {
    expect(parseCommandLine(['user', 'add', 'ana', '--role', 'operator', '--password-stdin'])).toEqual({ command: 'user', args: ['add', 'ana', '--role', 'operator', '--password-stdin'] });
    expect(parseCommandLine(['token', '--help'])).toEqual({ command: 'token', args: ['--help'] });
  });

  it('answers --help, -h and help anywhere with help', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['run', '--help'], ['resume', 'r-1', '-h']]) expect(parseCommandLine(argv)).toEqual({ command: 'help' });
  });

  it.each([
    [[], 'which command?'],
    [['launch'], 'unknown command "launch"'],
    [['run'], 'labrun run takes one protocol file'],
    [['run', 'a.json', 'b.json'], 'labrun run takes one protocol file'],
    [['resume'], 'labrun resume takes one run id'],
    [['ls', 'extra'], 'labrun ls takes no arguments'],
    [['ls', '--watch'], '--watch is not an option of labrun ls'],
    [['resume', 'r-1', '--json'], '--json is not an option of labrun resume'],
    [['run', 'p.json', '--colour'], "Unknown option '--colour'"],
    [['run', 'p.json', '--id'], "Option '--id <value>' argument missing"],
    [['run', 'p.json', '--id', 'run/1'], "--id: run id must not contain '+', '#', '/'"],
    [['resume', 'run/#'], `"run/#": run id must not contain`],
    [['ls', '--url', 'localhost'], '--url: expected an MQTT URL such as mqtt://127.0.0.1:1883'],
  ])('refuses %j with exit 3, saying %j', (argv, reason) => {
    const error = usageError(argv);
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(reason);
    expect(error.message).toContain('Run labrun --help for usage.');
  });
});
