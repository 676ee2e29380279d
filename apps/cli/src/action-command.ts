// `labrun pause|resume|stop|play|skip-delay <runId>`: send one action and report the engine's answer to it.
import type { ActionType } from '@labrun/contracts';
import { connectBroker, disconnect, type BrokerSettings } from './broker.js';
import { EXIT } from './exit-codes.js';
import { sendAction } from './run-messages.js';

export interface ActionRequest {
  action: ActionType;
  runId: string;
  by?: string;
  message?: string;
}

export async function act(request: ActionRequest, settings: BrokerSettings): Promise<number> {
  const client = await connectBroker(settings);
  try {
    const { action, runId, by, message } = request;
    const answer = await sendAction(client, runId, { type: action, ...(by === undefined ? {} : { by }), ...(message === undefined ? {} : { message }) }, settings);
    if (answer.type === 'action.rejected') {
      process.stderr.write(`labrun: ${answer.message}\n`);
      return EXIT.failed;
    }
    process.stdout.write(`${action} accepted on run ${runId}\n`);
    return EXIT.ok;
  } finally {
    await disconnect(client);
  }
}
