// Hardware requests (the MQTT contract's `hw/<dev>/requests`) carried out on a MotionController: decoding a
// payload into a request, or into the reason it is not one, and turning a request into its reply.
import { HARDWARE_LIMITS, HardwareRequest, decodeJson, validate, type HardwareReply, type HardwareState } from '@labrun/contracts';
import { describeFailure } from './failures.js';
import type { MotionController } from './motion-controller.js';

export type ReadRequest =
  | { ok: true; request: HardwareRequest }
  /** Not a valid request. `replyTo` and `reply` are there when the payload still said where to answer. */
  | { ok: false; error: string; replyTo?: string; reply?: HardwareReply };

/** Decode a payload as a hardware request. Never throws, whatever the bytes. */
export function readHardwareRequest(payload: Uint8Array): ReadRequest {
  const json = decodeJson(payload, HARDWARE_LIMITS);
  if (!json.ok) return { ok: false, error: json.error };
  const request = validate(HardwareRequest, json.value);
  if (request.ok) {
    if (isPublishTopic(request.value.replyTo)) return { ok: true, request: request.value };
    return { ok: false, error: `replyTo ${JSON.stringify(request.value.replyTo)} is not a topic a reply can be published to` };
  }
  const { id, replyTo } = (typeof json.value === 'object' && json.value !== null ? json.value : {}) as Record<string, unknown>;
  if (typeof id !== 'string' || typeof replyTo !== 'string' || !isPublishTopic(replyTo)) return { ok: false, error: request.error };
  return { ok: false, error: request.error, replyTo, reply: { id, ok: false, code: 'bad-request', message: request.error } };
}

/** A topic a reply can be published to: not empty, no wildcards, not a broker topic. */
export function isPublishTopic(topic: string): boolean {
  return topic.length > 0 && topic.length <= 256 && !/[+#\u0000]/.test(topic) && !topic.startsWith('$');
}

/**
 * Carry out a request and answer it when it is done: a move answers when the motion completes. `home`, `unlock`,
 * `move`, `dwell`, `set-output`, `gcode` and `probe` queue in the controller in request order; `hold`, `release`,
 * `stop` and `status` act at once.
 * A failure is answered as failures.ts classifies it: code, the controller's words and what to do, positionLost.
 */
export async function runHardwareRequest(controller: MotionController, request: HardwareRequest): Promise<HardwareReply> {
  try {
    return { id: request.id, ok: true, state: await perform(controller, request) };
  } catch (error) {
    return { id: request.id, ok: false, ...describeFailure(error) };
  }
}

function perform(controller: MotionController, request: HardwareRequest): Promise<HardwareState> {
  switch (request.op) {
    case 'home':
      return controller.home();
    case 'unlock':
      return controller.unlock();
    case 'move':
      return controller.move(request.params);
    case 'dwell':
      return controller.dwell(request.params.seconds);
    case 'set-output':
      return controller.setOutput(request.params.output, request.params.value);
    case 'gcode':
      return controller.gcode(request.params.lines);
    case 'probe':
      return controller.probe(request.params);
    case 'hold':
      return controller.hold();
    case 'release':
      return controller.release();
    case 'stop':
      return controller.stop();
    case 'status':
      return Promise.resolve(controller.state());
  }
}
