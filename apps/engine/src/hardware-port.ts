// The engine's hardware port over MQTT: a hardware command becomes a request on hw/<dev>/requests, and the
// reply on engine/<id>/replies settles it — with the device's state when it is done, or with the reply's failure
// (code, the controller's words and what to do, positionLost). A device that is not online, or goes away
// mid-command, fails the command with a message saying so instead of leaving the run waiting forever.
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { decodePayload, HARDWARE_LIMITS, HardwareReply, topics, type HardwareState } from '@labrun/contracts';
import type { HardwareCommand, HardwareError, HardwarePort } from '@labrun/engine';
import type { Logger } from '@labrun/service';

/** A failed hardware command: the reply's code and message, and whether the machine must be homed before it moves again. */
export type HardwareFailure = HardwareError & { code: string; positionLost?: boolean };

interface Pending {
  deviceId: string;
  resolve(state: HardwareState): void;
  reject(error: HardwareFailure): void;
  offlineTimer: NodeJS.Timeout | undefined;
  /** Sent while the device was known to be offline: nobody received it. */
  sentOffline: boolean;
}

/** A hardware command's `params` in its request (docs/mqtt-contract.md, `hw/<dev>/requests`). */
function paramsOf(command: HardwareCommand): object {
  switch (command.op) {
    case 'move':
    case 'gcode':
    case 'probe':
      return command.params;
    case 'set-output':
      return { output: command.output, value: command.value };
    case 'home':
    case 'unlock':
      return {};
  }
}

const hardwareError = (code: string, message: string, positionLost?: boolean): HardwareFailure => Object.assign(new Error(message), { code }, positionLost ? { positionLost } : {});

export class MqttHardwarePort implements HardwarePort {
  private readonly pending = new Map<string, Pending>();
  private readonly online = new Map<string, boolean>();
  readonly replyTopic: string;

  constructor(
    private readonly client: MqttClient,
    engineId: string,
    private readonly log: Logger,
    /** How long a request waits for a device that has not said it is online. */
    private readonly offlineGraceMs = 5000,
  ) {
    this.replyTopic = topics.engineReplies(engineId);
  }

  /** Carry out a command on a device; resolves with its state once done. Aborting `signal` stops the motion. */
  perform(deviceId: string, command: HardwareCommand, signal: AbortSignal): Promise<HardwareState> {
    const { id, done } = this.request(deviceId, command.op, paramsOf(command));
    signal.addEventListener(
      'abort',
      () => {
        // The device answers the interrupted request itself; one that is gone cannot, so settle it here.
        this.send(deviceId, { id: randomUUID(), op: 'stop', params: {} });
        if (this.online.get(deviceId) !== true) this.settle(id, hardwareError('aborted', 'motion stopped'));
      },
      { once: true },
    );
    return done;
  }

  async hold(deviceId: string): Promise<void> {
    await this.request(deviceId, 'hold', {}).done;
  }

  async release(deviceId: string): Promise<void> {
    await this.request(deviceId, 'release', {}).done;
  }

  /** Send a request and settle `done` with its reply (or with the device going away). */
  private request(deviceId: string, op: string, params: object): { id: string; done: Promise<HardwareState> } {
    const id = randomUUID();
    const done = new Promise<HardwareState>((resolve, reject) => {
      const entry: Pending = { deviceId, resolve, reject, offlineTimer: undefined, sentOffline: this.online.get(deviceId) === false };
      this.pending.set(id, entry);
      if (this.online.get(deviceId) !== true) {
        entry.offlineTimer = setTimeout(
          () => this.settle(id, hardwareError('offline', `hardware ${deviceId} is not online: no hardware service answers on hw/${deviceId} (is one running with DEVICE_ID=${deviceId}?)`)),
          this.offlineGraceMs,
        );
      }
    });
    this.send(deviceId, { id, op, params });
    return { id, done };
  }

  handleReply(payload: Uint8Array): void {
    const reply = decodePayload(HardwareReply, payload, HARDWARE_LIMITS);
    if (!reply.ok) {
      this.log.warn('ignored an unreadable hardware reply', { error: reply.error });
      return;
    }
    const r = reply.value;
    this.settle(r.id, r.ok ? r.state : hardwareError(r.code, r.message, r.positionLost));
  }

  handleOnline(deviceId: string, online: boolean): void {
    this.online.set(deviceId, online);
    for (const [id, entry] of this.pending) {
      if (entry.deviceId !== deviceId) continue;
      if (online && entry.sentOffline) {
        // Published while no hardware service listened: the one that is back never saw it, and would never answer.
        this.settle(id, hardwareError('offline', `hardware ${deviceId} was offline when the request was sent; it is back now: try again`));
      } else if (online) {
        clearTimeout(entry.offlineTimer);
        entry.offlineTimer = undefined;
      } else {
        // The service that drove the controller is gone, and with it the serial port: when it is back, GRBL will
        // have restarted (an Arduino resets when its port is opened), so the position counts as lost.
        const message = `the hardware service for ${deviceId} went offline during the command. When it is back, its controller will have restarted: home the machine before moving again`;
        this.settle(id, hardwareError('disconnected', message, true));
      }
    }
  }

  private settle(id: string, outcome: HardwareState | HardwareFailure): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.offlineTimer);
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  private send(deviceId: string, request: { id: string; op: string; params: object }): void {
    const body = JSON.stringify({ ...request, replyTo: this.replyTopic });
    this.client.publish(topics.hw(deviceId, 'requests'), body, { qos: 1 }, (error) => {
      if (error) this.log.warn('could not send a hardware request', { deviceId, op: request.op, error: error.message });
    });
  }
}
