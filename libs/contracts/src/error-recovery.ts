// A run's error recovery policy: what happens when one of its commands fails. Given at create
// (`"errorRecovery": { "default": "wait", "rules": [...] }`); the first rule that matches the failed command's type
// and error code decides, else the default. Modelled on Opentrons' error recovery policy, in data.
import { z } from 'zod';
import { COMMAND_TYPES } from './protocol.js';

/** What a run does about a failed command: wait for the operator, fail the run, or skip the command and go on. */
export const RECOVERY_OUTCOMES = ['wait', 'fail', 'skip'] as const;
export type RecoveryOutcome = (typeof RECOVERY_OUTCOMES)[number];

const outcome = (what: string) => z.enum(RECOVERY_OUTCOMES, { error: () => `${what} must be one of ${RECOVERY_OUTCOMES.join(', ')}` });

export const ErrorRecoveryRule = z.strictObject({
  /** The command type it applies to; any when absent. */
  command: z.enum(COMMAND_TYPES, { error: () => `rule.command must be one of ${COMMAND_TYPES.join(', ')}` }).optional(),
  /** The error code it applies to (e.g. grbl-error, alarm, not-homed, disconnected, timeout); any when absent. */
  code: z.string().min(1).max(100).optional(),
  then: outcome('rule.then'),
});
export type ErrorRecoveryRule = z.infer<typeof ErrorRecoveryRule>;

export const ErrorRecoveryPolicy = z.strictObject(
  {
    default: z.enum(['wait', 'fail'], { error: () => 'errorRecovery.default must be "wait" or "fail"' }).optional(),
    rules: z.array(ErrorRecoveryRule).max(100, 'errorRecovery.rules: at most 100 rules').optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'errorRecovery must be an object like { "default": "wait", "rules": [{ "code": "alarm", "then": "fail" }] }' : undefined) },
);
export type ErrorRecoveryPolicy = z.infer<typeof ErrorRecoveryPolicy>;

/** What the policy says to do about a failure of a command of this type with this code. */
export function recoveryFor(policy: ErrorRecoveryPolicy | undefined, commandType: string, code: string): RecoveryOutcome {
  for (const rule of policy?.rules ?? []) {
    if ((rule.command === undefined || rule.command === commandType) && (rule.code === undefined || rule.code === code)) return rule.then;
  }
  return policy?.default ?? 'wait';
}
