// Streams standing in for a command's terminal: stdin (a TTY with raw mode, or a pipe), and stdout and stderr
// that keep what was written, for testing command-line commands without a process.
import { PassThrough } from 'node:stream';

export type FakeStdin = PassThrough & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

export interface FakeTerminal {
  stdin: FakeStdin;
  stdout: PassThrough;
  stderr: PassThrough;
  env: NodeJS.ProcessEnv;
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
  /** Each setRawMode call on a TTY stdin, in order. */
  rawModes: boolean[];
}

/** A terminal (`tty: true`) or a pipe, with `stdin` text to read (ended once given) and an environment. */
export function fakeTerminal(options: { tty?: boolean; env?: NodeJS.ProcessEnv; stdin?: string } = {}): FakeTerminal {
  const stdin: FakeStdin = new PassThrough();
  const rawModes: boolean[] = [];
  if (options.tty) {
    stdin.isTTY = true;
    stdin.setRawMode = (raw) => rawModes.push(raw);
  }
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const collect = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { stream, text: () => text };
  };
  const stdout = collect();
  const stderr = collect();
  return { stdin, stdout: stdout.stream, stderr: stderr.stream, env: options.env ?? {}, out: stdout.text, err: stderr.text, rawModes };
}
