// The engine's hardware port over MQTT: a motion command becomes a request on hw/<dev>/requests, and the
// reply on engine/<id>/replies settles it. A device that is not online, or goes away mid-command, fails
// the command with a message saying so instead of leaving the run waiting forever.
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { decodePayload, HARDWARE_LIMITS, HardwareReply, topics } from '@labrun/contracts';
import type { HardwareError, HardwarePort, MotionCommand } from '@labrun/engine';
import type { Logger } from '@labrun/service';

interface Pending {
  deviceId: string;
  resolve(): void;
  reject(error: HardwareError): void;
  offlineTimer: NodeJS.Timeout | undefined;
}

const hardwareError = (code: string, message: string): HardwareError => Object.assign(new Error(message), { code });

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

  perform(deviceId: string, command: MotionCommand, signal: AbortSignal): Promise<void> {
    const { id, done } = this.request(deviceId, command.op, command.op === 'move' ? command.params : {});
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

  hold(deviceId: string): Promise<void> {
    return this.request(deviceId, 'hold', {}).done;
  }

  release(deviceId: string): Promise<void> {
    return this.request(deviceId, 'release', {}).done;
  }

  /** Send a request and settle `done` with its reply (or with the device going away). */
  private request(deviceId: string, op: string, params: object): { id: string; done: Promise<void> } {
    const id = randomUUID();
    const done = new Promise<void>((resolve, reject) => {
      const entry: Pending = { deviceId, resolve, reject, offlineTimer: undefined };
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
    this.settle(r.id, r.ok ? null : hardwareError(r.code, r.message));
  }

  handleOnline(deviceId: string, online: boolean): void {
    this.online.set(deviceId, online);
    for (const [id, entry] of this.pending) {
      if (entry.deviceId !== deviceId) continue;
      if (online) {
        clearTimeout(entry.offlineTimer);
        entry.offlineTimer = undefined;
      } else {
        this.settle(id, hardwareError('disconnected', `the hardware service for ${deviceId} went offline`));
      }
    }
  }

  private settle(id: string, error: HardwareError | null): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.offlineTimer);
    if (error) entry.reject(error);
    else entry.resolve();
  }

  private send(deviceId: string, request: { id: string; op: string; params: object }): void {
    const body = JSON.stringify({ ...request, replyTo: this.replyTopic });
    this.client.publish(topics.hw(deviceId, 'requests'), body, { qos: 1 }, (error) => {
      if (error) this.log.warn('could not send a hardware request', { deviceId, op: request.op, error: error.message });
    });
  }
}
