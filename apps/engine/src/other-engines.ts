// Every engine on a broker takes every run: a second engine would carry each run out again, on the same
// hardware. Engines cannot share a broker yet (no run ownership), so each watches engine/+/online and says
// loudly when another one is there.
import { decodeOnlineFlag, parseEngineOnlineTopic } from '@labrun/contracts';
import type { Logger } from '@labrun/service';

export class OtherEngines {
  private readonly online = new Set<string>();

  constructor(
    private readonly ownId: string,
    private readonly log: Logger,
  ) {}

  /** Take a message if it is on an engine's topic (and say whether it was). */
  handle(topic: string, payload: Buffer): boolean {
    if (!topic.startsWith('engine/')) return false;
    const parsed = parseEngineOnlineTopic(topic);
    const flag = decodeOnlineFlag(payload);
    // An unreadable topic or flag says nothing either way.
    if (!parsed.ok || !flag.ok || parsed.value.engineId === this.ownId) return true;
    const { engineId } = parsed.value;
    const up = flag.value === true;
    if (up && !this.online.has(engineId)) {
      this.online.add(engineId);
      this.log.warn('another engine is online on this broker: every engine takes every run, so each run would be carried out twice, on the same hardware. Give each engine a broker of its own', {
        engineId,
      });
    } else if (!up && this.online.delete(engineId)) {
      this.log.info('the other engine is offline again', { engineId });
    }
    return true;
  }
}
