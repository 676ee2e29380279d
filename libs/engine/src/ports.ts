// The engine's ports: how it reaches the world without knowing about MQTT, disks or wall clocks.
import type { MoveParams, RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import type { z } from 'zod';

export type MotionCommand = { op: 'home' } | { op: 'move'; params: z.infer<typeof MoveParams> };

export interface HardwarePort {
  /**
   * Perform one motion command on a device and resolve when it is done. Aborting `signal` must stop the
   * motion at once without losing position, and reject.
   */
  perform(deviceId: string, command: MotionCommand, signal: AbortSignal): Promise<void>;
  /** Feed hold: decelerate and stop the motion in progress, keeping it; resolves once the machine is held. */
  hold(deviceId: string): Promise<void>;
  /** Cycle start: continue held motion. */
  release(deviceId: string): Promise<void>;
}

/**
 * Why a motion command did not complete. `disconnected` means the controller (or the service that drives it)
 * went away mid-command: the command is interrupted, not failed, and is sent again when the run resumes.
 */
export interface HardwareError extends Error {
  code?: string;
}

export interface EngineOutput {
  /**
   * Called for every event, in order, before the status that reflects it; with its JSON when it has been
   * serialised already (for the journal), so it is not serialised twice.
   */
  event(event: RunEvent, json?: string): void;
  /**
   * An answer given before, given again (an action whose id was seen): delivered like an event, but it is in the
   * journal already and must never be written there a second time. Without it, event() delivers it.
   */
  answerAgain?(event: RunEvent): void;
  /** Called with the run's new status after each change. */
  status(status: RunStatusDocument): void;
  /** Called with the run's commands after commands start or finish: at most every `commandsIntervalMs`, and at once when the run ends. */
  commands?(commands: RunCommandsDocument): void;
}

export type { Clock } from '@labrun/contracts';
export { systemClock } from '@labrun/contracts';
