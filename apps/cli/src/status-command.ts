// `labrun status [runId] [--json] [--watch]` and `labrun ls`: what the broker's retained statuses say about runs.
import { FINISHED_STATUSES, topics, type Command, type RunStatusDocument } from '@labrun/contracts';
import type { MqttClient } from 'mqtt';
import { connectBroker, disconnect, type BrokerSettings } from './broker.js';
import { CliError, EXIT, exitCodeFor } from './exit-codes.js';
import { formatRunTable, formatStatus, isBetweenCommands } from './format.js';
import { onRunMessages, retainedCommands, retainedStatuses } from './run-messages.js';
import { StatusPrinter } from './status-printer.js';

export interface StatusRequest {
  runId?: string;
  json: boolean;
  watch: boolean;
}

const print = (text: string) => process.stdout.write(`${text}\n`);
const filterFor = (runId: string | undefined) => (runId === undefined ? topics.allRuns('status') : topics.run(runId, 'status'));

export async function showStatus(request: StatusRequest, settings: BrokerSettings): Promise<number> {
  const client = await connectBroker(settings);
  try {
    if (request.watch) return await watch(client, request);
    const statuses = await retainedStatuses(client, filterFor(request.runId));
    if (request.runId === undefined) {
      print(request.json ? JSON.stringify(statuses, null, 2) : statuses.length === 0 ? 'no runs' : statuses.flatMap((s) => formatStatus(s)).join('\n'));
      return EXIT.ok;
    }
    const [status] = statuses;
    if (!status) throw new CliError(EXIT.failed, `labrun: no run ${request.runId} on ${settings.url}`);
    if (request.json) {
      print(JSON.stringify(status, null, 2));
      return EXIT.ok;
    }
    // The current command (a failed one, awaiting recovery) is described in full from the run's commands document.
    const commands = status.current ? await retainedCommands(client, status.runId) : undefined;
    print([...formatStatus(status, commands), `  allowed actions: ${status.allowedActions.join(', ') || 'none'}`].join('\n'));
    return EXIT.ok;
  } finally {
    await disconnect(client);
  }
}

export async function listRuns(request: { json: boolean }, settings: BrokerSettings): Promise<number> {
  const client = await connectBroker(settings);
  try {
    const statuses = await retainedStatuses(client, topics.allRuns('status'));
    print(request.json ? JSON.stringify(statuses, null, 2) : formatRunTable(statuses));
    return EXIT.ok;
  } finally {
    await disconnect(client);
  }
}

/** Print every change until the run finishes (exit code by outcome), or, for all runs, until Ctrl-C. */
async function watch(client: MqttClient, request: StatusRequest): Promise<number> {
  // Following one run, its commands document describes its commands in full.
  let commands: Command[] | undefined;
  const render = (s: RunStatusDocument) => (request.json ? [JSON.stringify(s)] : formatStatus(s, commands));
  const printer = new StatusPrinter((text) => process.stdout.write(text), render);
  let seen = false;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const stop = onRunMessages(client, (message) => {
    if (message.kind === 'commands' && message.runId === request.runId) commands = message.commands.commands.map((entry) => entry.command);
    if (message.kind !== 'status' || (request.runId !== undefined && message.runId !== request.runId)) return;
    seen = true;
    if (isBetweenCommands(message.status)) return;
    if (printer.show(message.status) && request.runId !== undefined && FINISHED_STATUSES.includes(message.status.status)) {
      finish(exitCodeFor(message.status.status));
    }
  });
  const onInterrupt = () => finish(EXIT.interrupted);
  process.once('SIGINT', onInterrupt);
  try {
    await client.subscribeAsync(request.runId === undefined || request.json ? [filterFor(request.runId)] : [topics.run(request.runId, 'commands'), filterFor(request.runId)], { qos: 1 });
    const quiet = setTimeout(() => {
      if (!seen && request.runId !== undefined) process.stderr.write(`labrun: no run ${request.runId} yet; waiting for it (Ctrl-C to stop)\n`);
    }, 1000);
    const code = await finished;
    clearTimeout(quiet);
    return code;
  } finally {
    process.off('SIGINT', onInterrupt);
    stop();
  }
}
