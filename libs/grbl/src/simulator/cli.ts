#!/usr/bin/env node
// labrun-grbl-sim: a simulated GRBL 1.1h controller on a pseudo-terminal, for senders and services that open a
// serial device. `labrun-grbl-sim --link /tmp/ttyGRBL [--baud 115200]` prints `ready link=/tmp/ttyGRBL` once the
// device can be opened, then takes commands on stdin, one per line, and acknowledges each on stdout:
//   door open | door close   the safety door switch                                   door=open | door=closed
//   limit x|y|z              a limit switch trips where the machine stands (ALARM:1)    limit=x (or limit=x ignored)
//   reset                    the reset button: stops dead, ALARM:3 if it was moving     reset=pressed
//   power cycle              the power is cut and comes back: GRBL restarts locked      power=cycled
//   hang                     the firmware crashes and answers nothing until power cycle firmware=hung
//   error <N>                the next line GRBL reads is answered error:N               next-line=error:N
//   probe z=<Z> | probe off  the surface the probe touches: machine Z (as homed), or none probe-surface=z:-20 | none
//   quit                     stop (as do SIGINT, SIGTERM and the end of stdin); the link is removed
// The faults are for testing what a sender (labrun's hardware service) makes of them.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { GrblSimulator, exposeOnPty } from './index.js';

const USAGE =
  'usage: labrun-grbl-sim --link <path> [--baud <rate>]\n' + '  then on stdin: door open | door close | limit x|y|z | reset | power cycle | hang | error <N> | probe z=<Z> | probe off | quit';
const COMMANDS = '"door open", "door close", "limit x|y|z", "reset", "power cycle", "hang", "error <N>", "probe z=<Z>", "probe off" or "quit"';

/** Carry out one stdin command on the simulator; returns the acknowledgement to print, or why it is not one. */
function control(sim: GrblSimulator, command: string): { ack: string } | { error: string } {
  if (command === 'door open' || command === 'door close') {
    sim.setDoor(command === 'door open');
    return { ack: `door=${command === 'door open' ? 'open' : 'closed'}` };
  }
  const limit = /^limit ([xyz])$/.exec(command);
  if (limit) {
    const axis = limit[1] as 'x' | 'y' | 'z';
    return { ack: sim.tripLimit(axis) ? `limit=${axis}` : `limit=${axis} ignored (hard limits off, homing, or in alarm)` };
  }
  if (command === 'reset') {
    sim.pressReset();
    return { ack: 'reset=pressed' };
  }
  if (command === 'power cycle') {
    sim.powerCycle();
    return { ack: 'power=cycled' };
  }
  if (command === 'hang') {
    sim.hang();
    return { ack: 'firmware=hung' };
  }
  const error = /^error (\d{1,3})$/.exec(command);
  if (error) {
    sim.failNextLine(Number(error[1]));
    return { ack: `next-line=error:${Number(error[1])}` };
  }
  if (command === 'probe off') {
    sim.setProbeSurface(null);
    return { ack: 'probe-surface=none' };
  }
  const probe = /^probe z=([-+]?(?:\d+\.?\d*|\.\d+))$/.exec(command);
  if (probe) {
    sim.setProbeSurface(Number(probe[1]));
    return { ack: `probe-surface=z:${Number(probe[1])}` };
  }
  return { error: `expected ${COMMANDS}` };
}

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
    if (command === 'quit') return requestStop();
    if (!command) return;
    const result = control(sim, command);
    if ('ack' in result) console.log(result.ack);
    else console.error(`labrun-grbl-sim: unknown command ${JSON.stringify(line.trim())}: ${result.error}`);
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
