// The engine's ports: how it reaches the world without knowing about MQTT, disks or wall clocks.
import type { HardwareState, RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import type { HardwareCommand } from './commands/types.js';

export type { HardwareCommand } from './commands/types.js';
/** @deprecated the name before fixit actions: a device request is a HardwareCommand. */
export type MotionCommand = HardwareCommand;

export interface HardwarePort {
  /**
   * Carry out one request on a device (a motion command, or a fixit action such as unlock) and resolve with the
   * machine's state when it is done (or nothing, for a port that has none). Aborting `signal` must stop the
   * motion at once without losing position, and reject.
   */
  perform(deviceId: string, command: HardwareCommand, signal: AbortSignal): Promise<HardwareState | void>;
  /** Feed hold: decelerate and stop the motion in progress, keeping it; resolves once the machine is held. */
  hold(deviceId: string): Promise<void>;
  /** Cycle start: continue held motion. */
  release(deviceId: string): Promise<void>;
}

/**
 * Why a device request did not complete: a code (not-homed, grbl-error, alarm, disconnected, offline, timeout, ...;
 * `hardware-error` when the port gives none), the controller's words and what to do, and whether the controller
 * lost its position (it must be homed before motion is retried).
 */
export interface HardwareError extends Error {
  code?: string;
  positionLost?: boolean;
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
  /** Publish a message for another system (a protocol's `publish` effect). */
  message?(topic: string, payload: string, retain: boolean): void;
  /** Listen on a topic filter (a wait-for): messages on it go to Engine.external(). */
  subscribe?(topic: string): void;
  unsubscribe?(topic: string): void;
}

export type { Clock } from '@labrun/contracts';
export { systemClock } from '@labrun/contracts';
