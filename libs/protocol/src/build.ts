// Turn a protocol definition into a validated protocol document by running its body once.
import { ProtocolDocument, validate, type Command } from '@labrun/contracts';
import { recordingContext, type ProtocolDefinition } from './define.js';
import { withoutUndefined } from './objects.js';

/**
 * Run the protocol's body against a recording context and return the document it describes.
 * Throws an Error with zod's readable explanation when the result is not a valid protocol document,
 * and the body's own error (as `cause`) when the body throws.
 */
export async function buildProtocol(definition: ProtocolDefinition): Promise<ProtocolDocument> {
  const commands: Command[] = [];
  const { ctx, seal } = recordingContext(commands);
  try {
    await definition.body(ctx);
  } catch (error) {
    throw new Error(`protocol "${definition.metadata.name}" failed while recording its commands: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  } finally {
    seal();
  }
  const deck = withoutUndefined({ labware: definition.deck?.labware, travelHeight: definition.deck?.travelHeight });
  const document = validate(ProtocolDocument, { schemaVersion: 1, metadata: withoutUndefined({ ...definition.metadata }), ...deck, commands });
  if (!document.ok) throw new Error(document.error);
  return document.value;
}
