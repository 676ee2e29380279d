// `labrun run <protocol.json>`: create the run, play it, and follow it to the end, one line per change.
// When the protocol pauses, say why and how to resume (Enter, when a person is at the terminal).
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { MqttClient } from 'mqtt';
import { FINISHED_STATUSES, topics, type Command, type RunStatusDocument } from '@labrun/contracts';
import { connectBroker, disconnect, type BrokerSettings } from './broker.js';
import { CliError, EXIT, exitCodeFor } from './exit-codes.js';
import { formatStatus, isBetweenCommands } from './format.js';
import { readProtocolFile } from './protocol-file.js';
import { ANSWER_TIMEOUT_MS, onRunMessages, sendAction } from './run-messages.js';
import { StatusPrinter } from './status-printer.js';

export interface RunRequest {
  file: string;
  runId?: string;
  deviceId?: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`${line}\n`);

export async function runProtocol(request: RunRequest, settings: BrokerSettings): Promise<number> {
  const create = await readProtocolFile(request.file); // a bad file is reported before touching the broker
  const runId = request.runId ?? `r-${randomUUID().slice(0, 8)}`;
  const deviceId = request.deviceId ?? create.deviceId;
  const client = await connectBroker(settings);
  try {
    const initial = await createRun(client, runId, { protocol: create.protocol, ...(deviceId ? { deviceId } : {}) }, settings.url);
    say(`run ${runId}: "${initial.name}", ${initial.progress.total} commands on device ${initial.deviceId}`);
    return await follow(client, initial, create.protocol.commands, settings.url);
  } finally {
    await disconnect(client);
  }
}

/** Publish the create and wait for the engine's answer: the run's status, or its reason for refusing. */
async function createRun(client: MqttClient, runId: string, body: object, brokerUrl: string): Promise<RunStatusDocument> {
  let stop = () => {};
  const answer = new Promise<RunStatusDocument>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CliError(EXIT.failed, `labrun: no engine answered the create on run ${runId} within ${ANSWER_TIMEOUT_MS / 1000} s: is an engine connected to ${brokerUrl}?`)),
      ANSWER_TIMEOUT_MS,
    );
    const unsubscribe = onRunMessages(client, (message) => {
      if (message.runId !== runId) return;
      // A retained status is what the broker remembered from before; only a fresh one answers this create.
      if (message.kind === 'status' && !message.retained) resolve(message.status);
      if (message.kind === 'event' && message.event.type === 'run.rejected') reject(new CliError(EXIT.usage, `labrun: ${message.event.message}`));
    });
    stop = () => {
      clearTimeout(timer);
      unsubscribe();
    };
  });
  try {
    await client.subscribeAsync([topics.run(runId, 'status'), topics.run(runId, 'events')], { qos: 1 });
    await client.publishAsync(topics.run(runId, 'create'), JSON.stringify(body), { qos: 1 });
    return await answer;
  } finally {
    stop();
  }
}

/** Play the run and print its progress until it finishes (exit code by outcome) or the user presses Ctrl-C. */
async function follow(client: MqttClient, initial: RunStatusDocument, commands: readonly Command[], brokerUrl: string): Promise<number> {
  const { runId } = initial;
  const interactive = process.stdin.isTTY === true;
  const printer = new StatusPrinter((text) => process.stdout.write(text), (s) => formatStatus(s, commands));
  let current = initial;
  let hintedPause: string | null = null;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const answered = new Set<string>();

  const show = (status: RunStatusDocument) => {
    if (isBetweenCommands(status) || !printer.show(status)) return;
    current = status;
    const pauseKey = status.pause ? `${status.current?.index}|${status.pause.source}|${status.pause.since}` : null;
    if (status.status === 'paused' && status.allowedActions.includes('resume') && pauseKey !== hintedPause) {
      say(interactive ? `  press Enter to resume (or run: labrun resume ${runId})` : `  resume it with: labrun resume ${runId}`);
      hintedPause = pauseKey;
    }
    if (FINISHED_STATUSES.includes(status.status)) finish(exitCodeFor(status.status));
  };

  const stopListening = onRunMessages(client, (message) => {
    if (message.runId !== runId) return;
    if (message.kind === 'status') show(message.status);
    else if (message.event.type === 'action.accepted' && !answered.has(message.event.actionId)) {
      const { action, by, message: note } = message.event;
      answered.add(message.event.actionId);
      say(`  ${action} accepted${by ? ` from ${by}` : ''}${note ? `: ${note}` : ''}`);
    }
  });
  const onInterrupt = () => {
    warn(`\nlabrun: stopped following; run ${runId} goes on in the engine (labrun stop ${runId} stops it)`);
    finish(EXIT.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  const lines = interactive ? createInterface({ input: process.stdin }) : null;
  lines?.on('line', () => {
    if (current.status !== 'paused' || !current.allowedActions.includes('resume')) return;
    sendAction(client, runId, { type: 'resume' }, brokerUrl).then(
      (answer) => answer.type === 'action.rejected' && warn(`labrun: ${answer.message}`),
      (error: Error) => warn(error.message),
    );
  });

  try {
    show(initial);
    const play = await sendAction(client, runId, { type: 'play' }, brokerUrl);
    // Refused because it is already under way (or over), the run is still worth following to its end.
    if (play.type === 'action.rejected') warn(`labrun: ${play.message}`);
    return await finished;
  } finally {
    process.off('SIGINT', onInterrupt);
    lines?.close();
    stopListening();
  }
}
