// The hardware contract: requests from the engine to a hardware service, its replies, and its retained state.
import { z } from 'zod';
import { DeviceMoveParams, GcodeParams, OutputName, ProbeParams, SetOutputCommand } from './protocol.js';

export const HARDWARE_OPS = ['home', 'move', 'dwell', 'hold', 'release', 'stop', 'status', 'unlock', 'set-output', 'gcode', 'probe'] as const;
export const HardwareOp = z.enum(HARDWARE_OPS, { error: () => `unknown op: expected one of ${HARDWARE_OPS.join(', ')}` });
export type HardwareOp = z.infer<typeof HardwareOp>;

const requestBase = { id: z.string().min(1).max(128), replyTo: z.string().min(1).max(256) };
export const HardwareRequest = z.discriminatedUnion('op', [
  z.strictObject({ ...requestBase, op: z.literal('home'), params: z.strictObject({}).optional() }),
  z.strictObject({ ...requestBase, op: z.literal('move'), params: DeviceMoveParams }),
  z.strictObject({ ...requestBase, op: z.literal('dwell'), params: z.strictObject({ seconds: z.number().positive().max(604800) }) }),
  z.strictObject({ ...requestBase, op: z.literal('hold'), params: z.strictObject({}).optional() }),
  z.strictObject({ ...requestBase, op: z.literal('release'), params: z.strictObject({}).optional() }),
  z.strictObject({ ...requestBase, op: z.literal('stop'), params: z.strictObject({}).optional() }),
  z.strictObject({ ...requestBase, op: z.literal('status'), params: z.strictObject({}).optional() }),
  /** Leave an alarm without homing (GRBL `$X`): the position may be wrong, and the reply says so. */
  z.strictObject({ ...requestBase, op: z.literal('unlock'), params: z.strictObject({}).optional() }),
  /**
   * Switch a device output, named as the hardware service's HARDWARE_OUTPUTS names it (`pump`), to `value` (0 off,
   * 1 fully on). An output name the device does not offer is answered `unknown-output`.
   */
  z.strictObject({ ...requestBase, op: z.literal('set-output'), params: SetOutputCommand.shape.params }),
  /** Raw G-code lines, sent one at a time; answered once all of them are done (the motion too). */
  z.strictObject({ ...requestBase, op: z.literal('gcode'), params: GcodeParams }),
  /** GRBL `G38.2` toward a point in deck coordinates; answered with the state, whose `lastProbe` is where it touched. */
  z.strictObject({ ...requestBase, op: z.literal('probe'), params: ProbeParams }),
]);
export type HardwareRequest = z.infer<typeof HardwareRequest>;

export const MACHINE_STATES = ['Idle', 'Run', 'Hold', 'Jog', 'Alarm', 'Door', 'Check', 'Home', 'Sleep'] as const;
export const MachineState = z.enum(MACHINE_STATES);
export type MachineState = z.infer<typeof MachineState>;

export const Position = z.strictObject({ x: z.number(), y: z.number(), z: z.number() });
export type Position = z.infer<typeof Position>;

/**
 * The box the machine can reach, in deck coordinates (mm): for GRBL, its max travel ($130–$132) from the machine zero
 * homing sets ($23 and the build's HOMING_FORCE_SET_ORIGIN), less the deck origin. Where soft limits ($20=1) would
 * refuse a move, and hard limits stop one.
 */
export const Travel = z.strictObject({ min: Position, max: Position });
export type Travel = z.infer<typeof Travel>;

export const HardwareState = z.strictObject({
  connected: z.boolean(),
  machine: MachineState,
  /** In protocol (deck) coordinates: machine coordinates minus the device profile's deck origin. */
  position: Position,
  /** GRBL's machine position (MPos), mm. Optional for controllers that publish protocol coordinates only. */
  machinePosition: Position.optional(),
  homed: z.boolean(),
  door: z.enum(['closed', 'open']),
  alarm: z.strictObject({ code: z.number().int(), message: z.string() }).nullable(),
  /**
   * Every output the device offers, by the name HARDWARE_OUTPUTS gives it, and its level as the controller reports
   * it: 0 off, 1 fully on (`{ "pump": 0.5, "valve": 0 }`). Absent from services that predate outputs.
   */
  outputs: z.record(OutputName, z.number().min(0).max(1)).optional(),
  /**
   * Where the probe last touched (GRBL's `[PRB:…:1]`), in deck and machine coordinates, and when: absent until a
   * probe has touched since the controller connected. A probe that touches nothing leaves it as it was.
   */
  lastProbe: z.strictObject({ position: Position, machinePosition: Position, at: z.iso.datetime() }).optional(),
  /**
   * Where the machine can go, in deck coordinates: absent when the controller does not say (homing disabled, so the
   * machine's coordinates start wherever it was switched on; GRBL's settings unreadable; a service that predates it).
   * The engine refuses at create a run whose moves or probes leave it.
   */
  travel: Travel.optional(),
  at: z.iso.datetime(),
});
export type HardwareState = z.infer<typeof HardwareState>;

export const HardwareReply = z.discriminatedUnion('ok', [
  z.strictObject({ id: z.string(), ok: z.literal(true), state: HardwareState }),
  z.strictObject({
    id: z.string(),
    ok: z.literal(false),
    /** not-homed, grbl-error, alarm, probe-no-contact, probe-already-in-contact, reset, disconnected, timeout, lost-reply, aborted, bad-request, ... */
    code: z.string(),
    /** The controller's own words, and what to do. */
    message: z.string(),
    /** The controller lost its position (hard limit, reset during motion): home before moving again. */
    positionLost: z.boolean().optional(),
  }),
]);
export type HardwareReply = z.infer<typeof HardwareReply>;
