#!/usr/bin/env node
// labrun-grbl-sim: a simulated GRBL 1.1h controller on a pseudo-terminal, for senders and services that open a
// serial device. `labrun-grbl-sim --link /tmp/ttyGRBL [--baud 115200]` prints `ready link=/tmp/ttyGRBL` once the
// device can be opened, then takes commands on stdin, one per line:
//   door open | door close   the safety door switch
//   quit                     stop (as do SIGINT, SIGTERM and the end of stdin); the link is removed
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { GrblSimulator, exposeOnPty } from './index.js';

const USAGE = 'usage: labrun-grbl-sim --link <path> [--baud <rate>]   (then "door open", "door close" or "quit" on stdin)';

async function main(): Promise<number> {
  let options: { link?: string; baud?: string; help?: boolean };
  try {
    options = parseArgs({ options: { link: { type: 'string' }, baud: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    console.error(`labrun-grbl-sim: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (!options.link) {
    console.error(`labrun-grbl-sim: --link is required\n${USAGE}`);
    return 2;
  }
  const baudRate = options.baud === undefined ? 115200 : Number(options.baud);
  if (!Number.isInteger(baudRate) || baudRate < 0) {
    console.error(`labrun-grbl-sim: --baud must be a whole number of baud (0 for no pacing), not ${JSON.stringify(options.baud)}`);
    return 2;
  }

  // Listen for the ways to stop before saying ready, so a signal sent right after `ready` is never missed.
  let requestStop!: () => void;
  let stopping = false;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve)).then(() => void (stopping = true));
  process.once('SIGINT', () => requestStop());
  process.once('SIGTERM', () => requestStop());
  const input = createInterface({ input: process.stdin });
  input.on('close', () => requestStop());

  const sim = new GrblSimulator({ baudRate });
  input.on('line', (line) => {
    const command = line.trim().toLowerCase().replace(/\s+/g, ' ');
    if (command === 'door open' || command === 'door close') {
      sim.setDoor(command === 'door open');
      console.log(`door=${command === 'door open' ? 'open' : 'closed'}`);
    } else if (command === 'quit') {
      requestStop();
    } else if (command) {
      console.error(`labrun-grbl-sim: unknown command ${JSON.stringify(line.trim())}: expected "door open", "door close" or "quit"`);
    }
  });

  let pty;
  try {
    pty = await exposeOnPty(sim, options.link);
  } catch (error) {
    sim.close();
    console.error(`labrun-grbl-sim: ${(error as Error).message}`);
    return 1;
  }
  if (!stopping) console.log(`ready link=${pty.path}`);
  let lostPty = false;
  await Promise.race([stopRequested, pty.ended.then(() => void (lostPty = true))]);
  await pty.close();
  sim.close();
  if (lostPty && !stopping) {
    console.error(`labrun-grbl-sim: socat exited, ${pty.path} is gone`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
// Nothing else is left to wait for; leave even if stdin is still open.
process.exit();
