// Make the simulator look like a USB serial device: socat creates a pseudo-terminal, links it at a path of our
// choosing (say /tmp/ttyGRBL), and copies bytes between it and its own stdin/stdout, which we connect to the
// simulator's serial port. Any program that opens serial ports — a GRBL sender, `screen`, the labrun hardware
// service with SERIAL_PATH=/tmp/ttyGRBL — can then talk to the simulated controller.
// Unlike an Arduino, opening the port does not reset the controller: send a soft reset (0x18) to start afresh.
import { spawn } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import type { Duplex } from 'node:stream';

export interface PtyLink {
  /** The link to the pseudo-terminal, as asked for. */
  readonly path: string;
  /** Stop socat (which removes the link) and disconnect the simulator. */
  close(): Promise<void>;
  /** Settles when socat has exited, whether through close() or not. */
  readonly ended: Promise<void>;
}

const LINK_TIMEOUT_MS = 5000;

/** Expose `sim.port` on a pseudo-terminal linked at `linkPath`. Resolves once the link exists. */
export async function exposeOnPty(sim: { readonly port: Duplex }, linkPath: string): Promise<PtyLink> {
  // In its own process group, so a Ctrl-C meant for our process does not stop socat behind our back. If our
  // process dies, socat sees its stdin close and exits too, removing the link.
  const socat = spawn('socat', ['-d', '-d', `PTY,raw,echo=0,link=${linkPath}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let log = '';
  socat.stderr.setEncoding('utf8').on('data', (text: string) => (log += text));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    socat.once('close', (code) => {
      exitCode = code;
      resolve();
    });
  });
  let spawnError: Error | undefined;
  socat.once('error', (error) => (spawnError = error));
  // socat gone (or not there) must not take the process down with EPIPE.
  socat.stdin.on('error', () => {});

  sim.port.pipe(socat.stdin, { end: false });
  socat.stdout.pipe(sim.port, { end: false });
  const disconnect = () => {
    sim.port.unpipe(socat.stdin);
    socat.stdout.unpipe(sim.port);
  };

  const stop = async () => {
    disconnect();
    if (exitCode === undefined && !spawnError) {
      socat.kill('SIGTERM');
      await exited;
    }
    // socat removes its link when it exits; make sure a killed socat leaves none behind either.
    if (await isSymlink(linkPath)) await rm(linkPath, { force: true });
  };

  const deadline = Date.now() + LINK_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      disconnect();
      throw new Error(`cannot start socat to create the pty ${linkPath}: ${spawnError.message}`);
    }
    if (exitCode !== undefined) {
      disconnect();
      throw new Error(`socat exited (code ${exitCode}) before creating the pty ${linkPath}:\n${log.trim()}`);
    }
    // socat prints "starting data transfer loop" once both ends are open; the link exists by then.
    if (log.includes('starting data transfer loop') && (await isSymlink(linkPath))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`socat did not create the pty ${linkPath} within ${LINK_TIMEOUT_MS} ms:\n${log.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { path: linkPath, close: stop, ended: exited };
}

async function isSymlink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}
