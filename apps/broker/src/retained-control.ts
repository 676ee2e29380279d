// Creates and actions are never retained on labrun's broker. A retained `play` would be carried out by a running
// engine at once (MQTT forwards a live publish with retain=0, so the engine cannot tell) and would then stay on
// the broker for every later subscriber. So a publish to run/<id>/create or run/<id>/actions with the retain flag
// is refused whole — neither stored nor delivered, hence never carried out — and the sender learns why from a
// seq-0 `run.rejected` or `action.rejected` with code `retained` on run/<id>/events, as for any refused create or
// action. An empty retained publish is let through: it is how anyone clears a retained message left on a broker.
import { randomUUID } from 'node:crypto';
import type { Aedes, Client, PublishPacket } from 'aedes';
import { actionIdentity, parseRunTopic, topics, type RunEventOf } from '@labrun/contracts';
import type { Logger } from '@labrun/service';
import { discard } from './discard.js';

export const RETAINED_CODE = 'retained';

/** The answer to a retained create or action on `topic`, or undefined when the topic names no valid run. */
export function retainedControlRejection(topic: string, payload: Uint8Array, at: string, newId: () => string = randomUUID): RunEventOf<'run.rejected'> | RunEventOf<'action.rejected'> | undefined {
  const run = parseRunTopic(topic);
  if (!run.ok) return undefined;
  const { runId, kind } = run.value;
  const base = { runId, seq: 0, at, code: RETAINED_CODE };
  if (kind === 'create') {
    return { ...base, type: 'run.rejected', message: `cannot create run ${runId}: a retained create is refused; publish it without the retain flag` };
  }
  const { id, type } = actionIdentity(payload);
  return {
    ...base,
    type: 'action.rejected',
    actionId: id ?? newId(),
    action: type,
    message: `cannot act on run ${runId}: a retained action is refused; publish it without the retain flag`,
  };
}

/** Whether `packet` is a create or an action with the retain flag, not a clearing (empty) one. */
export function isRetainedControl(packet: Pick<PublishPacket, 'topic' | 'retain' | 'payload'>): boolean {
  if (!packet.retain || packet.payload.length === 0) return false;
  const parts = packet.topic.split('/');
  return parts.length === 3 && parts[0] === 'run' && (parts[2] === 'create' || parts[2] === 'actions');
}

/**
 * Wrap the broker's authorizePublish (the auth file's, or Aedes's default) so that retained creates and actions
 * are refused after it has let them through. Applies to last wills too, which Aedes checks through the same hook.
 */
export function refuseRetainedControl(broker: Aedes, log: Logger): void {
  const authorize: Aedes['authorizePublish'] = broker.authorizePublish.bind(broker);
  broker.authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => {
    authorize(client, packet, (error) => {
      if (error || !isRetainedControl(packet)) return callback(error);
      const { topic } = packet;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      log.warn('refused a retained create or action: neither delivered nor stored', { clientId: client?.id, topic });
      discard(packet);
      callback(null);
      const rejection = retainedControlRejection(topic, payload, new Date().toISOString());
      if (!rejection) return;
      const events = topics.run(rejection.runId, 'events');
      broker.publish({ cmd: 'publish', topic: events, payload: Buffer.from(JSON.stringify(rejection)), qos: 1, retain: false, dup: false }, (publishError) => {
        if (publishError) log.warn('could not publish the rejection of a retained create or action', { topic: events, error: publishError.message });
      });
    });
  };
}
