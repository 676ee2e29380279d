// The login rate limit, shared by the broker's password check and the gateway's bearer-token check: after too
// many failed logins from one address within a window, that address is refused at once, without checking what
// it sends, until a block has passed (fail2ban's rule, inside the process). Only the address counts, never the
// user name: a limit per user name would let anyone lock a colleague out by mistyping their name on purpose,
// and a legitimate user at another address must still get in while one address is guessing.
// Logins from one address are checked one at a time, so that a flood of parallel guesses is counted as it goes
// and cut off after the limit too (legitimate logins from one address merely wait their turn: a few ms each).
// A successful login does not reset the count either: otherwise an attacker holding one valid account could
// log in between guesses at another and never be blocked.
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { loginLimitEnv, parseEnv } from '@labrun/contracts';

export interface LoginLimits {
  /** Failed logins from one address within `windowSeconds` that block it; 0 turns the limit off. */
  maxFailures: number;
  windowSeconds: number;
  /** How long a blocked address is refused, counted from the failure that blocked it. */
  blockSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxFailures: 10, windowSeconds: 60, blockSeconds: 60 };

/** The limits from LABRUN_LOGIN_MAX_FAILURES, LABRUN_LOGIN_WINDOW_SECONDS and LABRUN_LOGIN_BLOCK_SECONDS; a ConfigError if one is not a number in range. */
export function loginLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): LoginLimits {
  const parsed = parseEnv(loginLimitEnv, env);
  return {
    maxFailures: parsed.LABRUN_LOGIN_MAX_FAILURES ?? DEFAULT_LOGIN_LIMITS.maxFailures,
    windowSeconds: parsed.LABRUN_LOGIN_WINDOW_SECONDS ?? DEFAULT_LOGIN_LIMITS.windowSeconds,
    blockSeconds: parsed.LABRUN_LOGIN_BLOCK_SECONDS ?? DEFAULT_LOGIN_LIMITS.blockSeconds,
  };
}

/** What the limit says about an address before its login is checked. */
export type LoginAdmission = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** How one login went: refused unchecked (blocked address), or checked — and whether that failure blocked it. */
export type LoginOutcome = { checked: false; retryAfterSeconds: number } | { checked: true; passed: true } | { checked: true; passed: false; blocked: boolean; retryAfterSeconds: number };

/** Failed logins counted per address, in memory (a restart forgets them, as fail2ban's own restart would not). */
export class LoginLimiter {
  private readonly failures: RateLimiterMemory | undefined;
  /** The last login being checked for each address: the next one waits for it. */
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.failures = limits.maxFailures === 0 ? undefined : new RateLimiterMemory({ points: limits.maxFailures, duration: limits.windowSeconds });
  }

  /**
   * Check a login from `address` with `check` (true: the password or token is right), unless the address is
   * blocked; count it if it fails. Logins from one address are checked one after the other.
   */
  attempt(address: string | undefined, check: () => Promise<boolean> | boolean): Promise<LoginOutcome> {
    if (!this.failures) return Promise.resolve(check()).then((passed) => (passed ? { checked: true, passed } : { checked: true, passed, blocked: false, retryAfterSeconds: 0 }));
    const key = keyOf(address);
    const turn = (this.turns.get(key) ?? Promise.resolve()).then(() => this.checkNow(address, check));
    const settled = turn.catch(() => undefined);
    this.turns.set(key, settled);
    void settled.then(() => {
      if (this.turns.get(key) === settled) this.turns.delete(key);
    });
    return turn;
  }

  private async checkNow(address: string | undefined, check: () => Promise<boolean> | boolean): Promise<LoginOutcome> {
    const admission = await this.admit(address);
    if (!admission.allowed) return { checked: false, retryAfterSeconds: admission.retryAfterSeconds };
    if (await check()) return { checked: true, passed: true };
    return { checked: true, passed: false, ...(await this.failed(address)) };
  }

  /** Whether a login from `address` may be checked now, or when it may try again. */
  async admit(address: string | undefined): Promise<LoginAdmission> {
    if (!this.failures) return { allowed: true };
    const counted = await this.failures.get(keyOf(address));
    if (counted === null || counted.consumedPoints < this.limits.maxFailures) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(counted.msBeforeNext / 1000)) };
  }

  /** Count a failed login from `address`; whether that failure blocked it. */
  async failed(address: string | undefined): Promise<{ blocked: boolean; retryAfterSeconds: number }> {
    if (!this.failures) return { blocked: false, retryAfterSeconds: 0 };
    const key = keyOf(address);
    let counted: RateLimiterRes;
    try {
      counted = await this.failures.consume(key);
    } catch (refusal) {
      // The memory limiter rejects with a RateLimiterRes once the points are used up (and only then).
      counted = refusal as RateLimiterRes;
    }
    if (counted.consumedPoints < this.limits.maxFailures) return { blocked: false, retryAfterSeconds: 0 };
    // The block runs from this failure on, however much of the window is left.
    await this.failures.block(key, this.limits.blockSeconds);
    return { blocked: true, retryAfterSeconds: this.limits.blockSeconds };
  }
}

// An IPv4 client reaching a dual-stack listener shows as ::ffff:a.b.c.d: one address, one count.
const keyOf = (address: string | undefined) => (address ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
