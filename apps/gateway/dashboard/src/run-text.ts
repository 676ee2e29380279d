// What the dashboard says about a run, in words: time as a clock, commands as the engine describes them, every reason
// a run waits, what a run awaiting recovery needs, how a command's attempts went. Pure (no DOM): tested in node
// (run-text.spec.ts); main.ts puts it on the page.
import type { Command, PauseInfo, PauseReason, PauseSource, RunCommand, RunStatusDocument } from '@labrun/contracts';
import { clock, describeCommand } from '@labrun/engine/commands';

export { clock };

/** A countdown rounds up: 0.2 s left still reads 00:01. */
export const countdown = (seconds: number) => clock(Math.ceil(Math.max(0, seconds)));

export const seconds = (s: number) => `${Number.isInteger(s) ? s : s.toFixed(1)} s`;

/** A command as the dashboard says it: "Move to X 10, Y 20 at 600 mm/min", "Pause: “Check”" (the engine's words). */
export const describe = (command: Command) => describeCommand(command, 'sentence');

/** What holds a run, in words. */
export const SOURCE_TEXT: Record<PauseSource, string> = {
  protocol: 'the protocol',
  user: 'a user',
  interlock: 'the safety interlock',
  recovery: 'recovery after an engine restart',
  error: 'a failed command',
  external: 'another instrument',
};

/** Who holds the run for this reason: a user's name when the pause says it, else the source in words. */
export const reasonWho = (reason: PauseReason) => (reason.source === 'user' && reason.by ? reason.by : SOURCE_TEXT[reason.source]);

/**
 * Every reason the run waits for besides the headline one (`pause` itself), oldest first: "Also held by the
 * protocol: Check the samples". A protocol's message is never lost behind an interlock or an error this way.
 */
export function otherReasons(pause: PauseInfo | null): string[] {
  if (!pause) return [];
  return pause.reasons.filter((reason) => reason.source !== pause.source).map((reason) => `Also held by ${reasonWho(reason)}${reason.message ? `: ${reason.message}` : ''}`);
}

const ACTION_WORDS = { home: { done: 'Home', doing: 'Homing' }, unlock: { done: 'Unlock', doing: 'Unlocking' } } as const;

/** What the recovery panel shows for a run awaiting recovery. */
export interface RecoveryView {
  /** "Command #2 failed". */
  title: string;
  /** The failed command as the engine describes it, or its type when the commands document is not there yet. */
  command: string;
  /** The controller's own words and what to do. */
  message: string;
  facts: [term: string, value: string | null][];
  /** The machine lost its position: a retry of motion waits for a home. */
  needsHome: boolean;
  /** The fixit action in progress or the last one's outcome. */
  fixit: { text: string; state: 'running' | 'ok' | 'failed' } | null;
  /** Every other reason the run waits for (a user's pause, the interlock, …). */
  others: string[];
}

/** The recovery panel of a run awaiting recovery, or null for any other run. */
export function recoveryView(run: RunStatusDocument, commands: readonly RunCommand[] | null): RecoveryView | null {
  const { error, recovery } = run;
  if (run.status !== 'awaiting-recovery' || !error) return null;
  const index = error.commandIndex ?? run.current?.index ?? null;
  const entry = index === null ? undefined : commands?.[index];
  const attempt = recovery?.attempt ?? error.attempt ?? null;
  const fixit = recovery?.fixit ?? null;
  const words = fixit && ACTION_WORDS[fixit.action];
  return {
    title: index === null ? 'A command failed' : `Command #${index + 1} failed`,
    command: entry ? describe(entry.command) : (run.current?.type ?? 'unknown command'),
    message: error.message,
    facts: [
      ['Code', error.code],
      ['Attempt', attempt === null ? null : String(attempt)],
    ],
    needsHome: recovery?.needsHome ?? false,
    fixit:
      fixit && words
        ? {
            text: fixit.ok === null ? `${words.doing}…` : `${words.done} ${fixit.ok ? 'done' : 'failed'}${fixit.message ? `: ${fixit.message}` : ''}`,
            state: fixit.ok === null ? 'running' : fixit.ok ? 'ok' : 'failed',
          }
        : null,
    others: otherReasons(run.pause),
  };
}

const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

/**
 * How a command's attempts went, when there is more to say than its status: "failed once, succeeded on attempt 2",
 * "skipped by ana after failing once", "failed twice, now attempt 3". Null for a command done at its first try.
 */
export function attemptsText(entry: RunCommand): string | null {
  const failures = (entry.attempts ?? []).filter((attempt) => attempt.status === 'failed').length;
  const last = entry.attempts?.at(-1);
  switch (entry.status) {
    case 'skipped':
      return `skipped${entry.skippedBy ? ` by ${entry.skippedBy}` : ''}${failures > 0 ? ` after failing ${times(failures)}` : ''}`;
    case 'succeeded':
      return failures > 0 && last ? `failed ${times(failures)}, succeeded on attempt ${last.attempt}` : null;
    case 'running':
      return failures > 0 && last ? `failed ${times(failures)}, now attempt ${last.attempt}` : null;
    case 'failed':
      return failures > 1 ? `failed ${times(failures)}` : null;
    default:
      return null;
  }
}
