// Reading what the engine publishes about runs: status documents, commands documents and events, decoded through
// the contract, and the questions commands ask — "what is its status?", "what are its commands?" and "what did the
// engine say to my action?".
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { RunCommandsDocument, RunEvent, RunStatusDocument, decodePayload, parseRunTopic, topics, type ActionType, type Command, type DecodeLimits, type RunEventOf } from '@labrun/contracts';
import { noAnswerMessage, type BrokerSettings } from './broker.js';
import { CliError, EXIT } from './exit-codes.js';

const LIMITS: DecodeLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 16 };
/** A commands document holds the whole protocol (up to a million commands). */
const COMMANDS_LIMITS: DecodeLimits = { maxBytes: 256 * 1024 * 1024, maxDepth: 16 };
export const ANSWER_TIMEOUT_MS = 5000;

export type RunMessage =
  | { kind: 'status'; runId: string; status: RunStatusDocument; retained: boolean }
  | { kind: 'event'; runId: string; event: RunEvent }
  | { kind: 'commands'; runId: string; commands: RunCommandsDocument; retained: boolean };

/** Call `onMessage` for every readable status or event message; returns a function that stops listening. */
export function onRunMessages(client: MqttClient, onMessage: (message: RunMessage) => void): () => void {
  const listener = (topic: string, payload: Buffer, packet: { retain: boolean }) => {
    const parsed = parseRunTopic(topic);
    if (!parsed.ok || payload.byteLength === 0) return; // an empty payload is a deleted retained status
    const { runId, kind } = parsed.value;
    if (kind === 'status') {
      const status = decodePayload(RunStatusDocument, payload, LIMITS);
      if (status.ok) onMessage({ kind, runId, status: status.value, retained: packet.retain });
    } else if (kind === 'events') {
      const event = decodePayload(RunEvent, payload, LIMITS);
      if (event.ok) onMessage({ kind: 'event', runId, event: event.value });
    } else if (kind === 'commands') {
      const commands = decodePayload(RunCommandsDocument, payload, COMMANDS_LIMITS);
      if (commands.ok) onMessage({ kind, runId, commands: commands.value, retained: packet.retain });
    }
  };
  client.on('message', listener);
  return () => client.off('message', listener);
}

/**
 * The retained status documents on `filter` (one run's topic, or `run/+/status`). The broker sends retained
 * messages right after the subscription and never says it is done, so this waits until it has been quiet a while.
 */
export async function retainedStatuses(client: MqttClient, filter: string, quietMs = 300, maxMs = 3000): Promise<RunStatusDocument[]> {
  const found = new Map<string, RunStatusDocument>();
  let lastMessageAt = Date.now();
  const stop = onRunMessages(client, (message) => {
    if (message.kind !== 'status' || !message.retained) return;
    found.set(message.runId, message.status);
    lastMessageAt = Date.now();
  });
  try {
    await client.subscribeAsync(filter, { qos: 1 });
    const started = Date.now();
    lastMessageAt = Math.max(lastMessageAt, started);
    while (Date.now() - lastMessageAt < quietMs && Date.now() - started < maxMs) await new Promise((r) => setTimeout(r, 50));
  } finally {
    stop();
  }
  return [...found.values()];
}

/**
 * The run's protocol commands, from its retained commands document, to describe them in full (`#2 move x=10`); undefined
 * when the broker has none within `maxMs` (an engine older than commands documents, or a run just removed).
 */
export async function retainedCommands(client: MqttClient, runId: string, maxMs = 1000): Promise<Command[] | undefined> {
  let stop = () => {};
  const found = new Promise<Command[] | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), maxMs);
    const unsubscribe = onRunMessages(client, (message) => {
      if (message.kind !== 'commands' || message.runId !== runId) return;
      clearTimeout(timer);
      resolve(message.commands.commands.map((entry) => entry.command));
    });
    stop = () => {
      clearTimeout(timer);
      unsubscribe();
    };
  });
  try {
    await client.subscribeAsync(topics.run(runId, 'commands'), { qos: 1 });
    return await found;
  } finally {
    stop();
    await client.unsubscribeAsync(topics.run(runId, 'commands')).catch(() => {});
  }
}

export type ActionAnswer = RunEventOf<'action.accepted'> | RunEventOf<'action.rejected'>;

/**
 * Publish an action with a fresh id and wait for the engine's answer to exactly that action.
 * Subscribes to the run's events first, so the answer cannot be missed.
 */
export async function sendAction(
  client: MqttClient,
  runId: string,
  action: { type: ActionType; by?: string; message?: string },
  settings: BrokerSettings,
  timeoutMs = ANSWER_TIMEOUT_MS,
): Promise<ActionAnswer> {
  const id = `cli-${randomUUID()}`;
  let stop = () => {};
  const answer = new Promise<ActionAnswer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CliError(EXIT.noAnswer, noAnswerMessage(action.type, runId, timeoutMs, settings))), timeoutMs);
    const unsubscribe = onRunMessages(client, (message) => {
      if (message.kind !== 'event' || message.runId !== runId) return;
      const { event } = message;
      if ((event.type === 'action.accepted' || event.type === 'action.rejected') && event.actionId === id) {
        clearTimeout(timer);
        resolve(event);
      }
    });
    stop = () => {
      clearTimeout(timer);
      unsubscribe();
    };
  });
  try {
    await client.subscribeAsync(topics.run(runId, 'events'), { qos: 1 });
    await client.publishAsync(topics.run(runId, 'actions'), JSON.stringify({ ...action, id }), { qos: 1 });
    return await answer;
  } finally {
    stop();
  }
}
