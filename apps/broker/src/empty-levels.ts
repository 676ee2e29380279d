// Keeping persistent subscribers connected when a topic has an empty level (`run//create`, `run//actions`).
//
// The cause, in Aedes 1.2 with its in-memory persistence (aedes-persistence 11): a topic level may be empty, and
// `+` matches it ([MQTT-4.7.1-3]: `run/+/create` matches `run//create`). Aedes' message router, mqemitter, is set up
// to match so (matchEmptyLevels: true), but aedes-persistence builds its subscription tree (qlobber) without
// match_empty_levels. A QoS 1 message for a persistent (clean: false) session is first queued for every subscription
// the persistence finds (subscriptionsByTopic, then outgoingEnqueueCombi), then delivered through mqemitter, which
// stores the packet id it sends under by finding the queued message (outgoingUpdate). For `run//create` the
// persistence finds no subscriber of `run/+/create`, so nothing was queued, mqemitter still delivers it, and
// outgoingUpdate fails with "no such packet": Aedes treats that as the client's error and closes its connection —
// the engine's receiving connection, once per mistyped publish. (aedes-persistence-redis sets match_empty_levels,
// so on Redis the two agree and this does not happen.)
//
// The work-around: a delivery that finds nothing queued queues its message then, and is sent as usual. What stays
// different from the letter of the spec: a persistent session that is offline when such a message is published
// does not get it later, and a retained message on such a topic is not sent to a `+` subscription made later.
import type { Aedes } from 'aedes';

type Persistence = {
  outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: object): Promise<void>;
};

export function queueDeliveriesThePersistenceMissed(broker: Aedes): void {
  const persistence = (broker as unknown as { persistence: Persistence }).persistence;
  const update = persistence.outgoingUpdate.bind(persistence);
  persistence.outgoingUpdate = async (client, packet) => {
    try {
      await update(client, packet);
    } catch (error) {
      if ((error as Error).message !== 'no such packet') throw error;
      await persistence.outgoingEnqueue({ clientId: client.id }, packet);
      await update(client, packet);
    }
  };
}
