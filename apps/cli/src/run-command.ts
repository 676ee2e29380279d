// `labrun run <protocol.json|protocol.ts>`: create the run, play it, and follow it to the end: a live progress
// line on a terminal, one line per change elsewhere. When the run pauses or a command fails, say why and what can
// be done: the keys a person at the terminal can press (Enter resumes; r, s, h, u retry, skip, home, unlock), or the
// commands that do it from elsewhere.
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { MqttClient } from 'mqtt';
import { FINISHED_STATUSES, topics, type Command, type RunStatusDocument } from '@labrun/contracts';
import { connectBroker, disconnect, noAnswerMessage, type BrokerSettings } from './broker.js';
import { CliError, EXIT, exitCodeFor } from './exit-codes.js';
import { readProtocolFile } from './protocol-file.js';
import { actionForKey, formatKeyHint } from './run-keys.js';
import { ANSWER_TIMEOUT_MS, onRunMessages, sendAction } from './run-messages.js';
import { PlainView, TerminalView, type RunView } from './run-view.js';

export interface RunRequest {
  file: string;
  runId?: string;
  deviceId?: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Who pressed the key, for the `by` of its action: the user's login name. */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'labrun';
  }
}

export async function runProtocol(request: RunRequest, settings: BrokerSettings): Promise<number> {
  const create = await readProtocolFile(request.file); // a bad file is reported before touching the broker
  const runId = request.runId ?? `r-${randomUUID().slice(0, 8)}`;
  const deviceId = request.deviceId ?? create.deviceId;
  const client = await connectBroker(settings);
  try {
    const initial = await createRun(client, runId, { protocol: create.protocol, ...(deviceId ? { deviceId } : {}) }, settings);
    say(`run ${runId}: "${initial.name}", ${initial.progress.total} commands on device ${initial.deviceId}`);
    return await follow(client, initial, create.protocol.commands, settings);
  } finally {
    await disconnect(client);
  }
}

/** Publish the create and wait for the engine's answer: the run's status, or its reason for refusing. */
async function createRun(client: MqttClient, runId: string, body: object, settings: BrokerSettings): Promise<RunStatusDocument> {
  let stop = () => {};
  const answer = new Promise<RunStatusDocument>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CliError(EXIT.noAnswer, noAnswerMessage('the create', runId, ANSWER_TIMEOUT_MS, settings))), ANSWER_TIMEOUT_MS);
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

/** Play the run and show its progress until it finishes (exit code by outcome) or the user presses Ctrl-C. */
async function follow(client: MqttClient, initial: RunStatusDocument, commands: readonly Command[], settings: BrokerSettings): Promise<number> {
  const { runId } = initial;
  // Keys act only where a person can press them; the live line only where it can be redrawn.
  const interactive = process.stdin.isTTY === true;
  const view: RunView = process.stdout.isTTY === true ? new TerminalView(commands) : new PlainView(commands);
  let current = initial;
  let hinted: string | null = null;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const answered = new Set<string>();

  const show = (status: RunStatusDocument) => {
    if (!view.show(status)) return;
    current = status;
    // Said again when what can be done changes (a home that makes a retry possible) or the run waits anew.
    const hint = formatKeyHint(status, interactive);
    const hintKey = `${status.current?.index}|${status.pause?.source}|${status.pause?.since}|${hint}`;
    if (hint && hintKey !== hinted) view.note(`  ${hint}`);
    hinted = hintKey;
    if (FINISHED_STATUSES.includes(status.status)) finish(exitCodeFor(status.status));
  };

  const stopListening = onRunMessages(client, (message) => {
    if (message.runId !== runId) return;
    if (message.kind === 'status') show(message.status);
    else if (message.kind === 'event' && message.event.type === 'action.accepted' && !answered.has(message.event.actionId)) {
      const { action, by, message: note } = message.event;
      answered.add(message.event.actionId);
      view.note(`  ${action} accepted${by ? ` from ${by}` : ''}${note ? `: ${note}` : ''}`);
    }
  });
  const onInterrupt = () => {
    view.warn(`labrun: stopped following; run ${runId} goes on in the engine (labrun stop ${runId} stops it)`);
    finish(EXIT.interrupted);
  };
  const onKey = (key: string) => {
    const action = actionForKey(key, current);
    if (!action) return;
    sendAction(client, runId, { type: action, by: operatorName() }, settings).then(
      (answer) => answer.type === 'action.rejected' && view.warn(`labrun: ${answer.message}`),
      (error: Error) => view.warn(error.message),
    );
  };
  process.once('SIGINT', onInterrupt);
  const stopKeys = interactive ? listenForKeys({ key: onKey, interrupt: onInterrupt }) : () => {};

  try {
    show(initial);
    const play = await sendAction(client, runId, { type: 'play' }, settings);
    // Refused because it is already under way (or over), the run is still worth following to its end.
    if (play.type === 'action.rejected') view.warn(`labrun: ${play.message}`);
    return await finished;
  } finally {
    process.off('SIGINT', onInterrupt);
    stopKeys();
    view.close();
    stopListening();
  }
}

/**
 * Read single keys from the terminal (raw mode: nothing is echoed to spoil the live line). In raw mode
 * Ctrl-C arrives as a key, not as SIGINT, so it is handled here too. Returns the function that stops it.
 */
function listenForKeys(on: { key: (key: string) => void; interrupt: () => void }): () => void {
  const stdin = process.stdin;
  const onData = (chunk: Buffer) => {
    // A key such as Home or an arrow arrives as an escape sequence (`\x1b[H`): none of its letters is a key press.
    if (chunk.includes(0x1b)) return;
    for (const byte of chunk) {
      if (byte === 0x03) on.interrupt();
      else on.key(String.fromCharCode(byte));
    }
  };
  stdin.setRawMode?.(true);
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode?.(false);
    stdin.pause();
  };
}
