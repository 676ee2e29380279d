// The hardware service's Prometheus metrics (served on HARDWARE_METRICS_PORT): the controller's state as the
// service last read it, each output's level, and the requests it answered with how long they took. One service
// answers for one device: Prometheus' target labels tell devices apart, so no metric carries the device id.
import { HARDWARE_OPS, MACHINE_STATES, type HardwareReply, type HardwareRequest, type HardwareState } from '@labrun/contracts';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetricsRegistry } from '@labrun/service/metrics';

/** The failure codes the service gives (docs/hardware.md, "The failures"); any other is counted as `other`. */
const KNOWN_CODES: ReadonlySet<string> = new Set([
  'not-homed',
  'alarm',
  'grbl-error',
  'probe-no-contact',
  'probe-already-in-contact',
  'reset',
  'disconnected',
  'timeout',
  'lost-reply',
  'no-deck-origin',
  'bad-request',
  'unknown-output',
]);

export class HardwareMetrics {
  readonly registry = createMetricsRegistry('labrun_hardware_');
  private readonly requests: Counter<'op' | 'result' | 'code'>;
  private readonly duration: Histogram<'op'>;

  constructor(state: () => HardwareState, outputs: readonly string[]) {
    const registers = [this.registry];
    new Gauge({
      name: 'labrun_hardware_controller_connected',
      help: 'The controller answers on its serial line (1) or not (0).',
      registers,
      collect() {
        this.set(state().connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'labrun_hardware_homed',
      help: 'The controller knows where the machine is (1): homed since it started or since it lost its position.',
      registers,
      collect() {
        this.set(state().homed ? 1 : 0);
      },
    });
    new Gauge({
      name: 'labrun_hardware_alarm',
      help: "The controller is in GRBL's Alarm state (1) — an alarm, or the lock at start-up with homing on: it takes no motion until homed or unlocked.",
      registers,
      collect() {
        const { machine, alarm } = state();
        this.set(machine === 'Alarm' || alarm !== null ? 1 : 0);
      },
    });
    new Gauge({
      name: 'labrun_hardware_machine_state',
      help: "GRBL's state (Idle, Run, Hold, Alarm, Door, …): 1 for the one it is in, 0 for the others.",
      labelNames: ['state'],
      registers,
      collect() {
        const now = state().machine;
        for (const s of MACHINE_STATES) this.set({ state: s }, s === now ? 1 : 0);
      },
    });
    new Gauge({
      name: 'labrun_hardware_output_level',
      help: 'Each output the device offers (HARDWARE_OUTPUTS), at the level the controller reports: 0 off … 1 fully on.',
      labelNames: ['output'],
      registers,
      collect() {
        const levels = state().outputs ?? {};
        for (const output of outputs) this.set({ output }, levels[output] ?? 0);
      },
    });
    this.requests = new Counter({
      name: 'labrun_hardware_requests_total',
      help: 'Requests answered, by op and result; a failure by its code (`other` for a code not in docs/hardware.md).',
      labelNames: ['op', 'result', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'labrun_hardware_request_seconds',
      help: 'From a request to its answer (a move: until the machine has arrived).',
      labelNames: ['op'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    for (const op of HARDWARE_OPS) this.requests.inc({ op, result: 'ok' }, 0);
  }

  answered(request: Pick<HardwareRequest, 'op'>, answer: HardwareReply, seconds: number): void {
    if (answer.ok) this.requests.inc({ op: request.op, result: 'ok' });
    else this.requests.inc({ op: request.op, result: 'failed', code: KNOWN_CODES.has(answer.code) ? answer.code : 'other' });
    this.duration.observe({ op: request.op }, seconds);
  }
}
