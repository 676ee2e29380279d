// The login rate limit: which addresses are refused before their login is checked, and for how long.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '@labrun/contracts';
import { LoginLimiter, loginLimitsFromEnv } from './login-limit.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('LoginLimiter', () => {
  it('lets an address try until it has failed maxFailures times, then refuses it for the block time', async () => {
    const limiter = new LoginLimiter({ maxFailures: 3, windowSeconds: 60, blockSeconds: 30 });
    for (let i = 1; i <= 2; i++) {
      expect(await limiter.admit('10.0.0.9')).toEqual({ allowed: true });
      expect(await limiter.failed('10.0.0.9')).toEqual({ blocked: false, retryAfterSeconds: 0 });
    }
    expect(await limiter.admit('10.0.0.9')).toEqual({ allowed: true });
    expect(await limiter.failed('10.0.0.9')).toEqual({ blocked: true, retryAfterSeconds: 30 });
    const refused = await limiter.admit('10.0.0.9');
    expect(refused.allowed).toBe(false);
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeGreaterThan(25);
  });

  it("does not hold one address's failures against another", async () => {
    const limiter = new LoginLimiter({ maxFailures: 2, windowSeconds: 60, blockSeconds: 60 });
    await limiter.failed('10.0.0.9');
    await limiter.failed('10.0.0.9');
    expect((await limiter.admit('10.0.0.9')).allowed).toBe(false);
    expect(await limiter.admit('10.0.0.10')).toEqual({ allowed: true });
  });

  it('counts an IPv4 address the same whether or not it comes as an IPv4-mapped IPv6 address', async () => {
    const limiter = new LoginLimiter({ maxFailures: 2, windowSeconds: 60, blockSeconds: 60 });
    await limiter.failed('::ffff:10.0.0.9');
    await limiter.failed('10.0.0.9');
    expect((await limiter.admit('10.0.0.9')).allowed).toBe(false);
  });

  it('lets a blocked address try again once the block has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const limiter = new LoginLimiter({ maxFailures: 1, windowSeconds: 60, blockSeconds: 5 });
    await limiter.failed('10.0.0.9');
    expect((await limiter.admit('10.0.0.9')).allowed).toBe(false);
    await vi.advanceTimersByTimeAsync(5_100);
    expect(await limiter.admit('10.0.0.9')).toEqual({ allowed: true });
  });

  it('forgets failures older than the window', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const limiter = new LoginLimiter({ maxFailures: 2, windowSeconds: 10, blockSeconds: 60 });
    await limiter.failed('10.0.0.9');
    await vi.advanceTimersByTimeAsync(10_100);
    expect(await limiter.failed('10.0.0.9')).toEqual({ blocked: false, retryAfterSeconds: 0 });
    expect(await limiter.admit('10.0.0.9')).toEqual({ allowed: true });
  });

  it('never refuses anyone with maxFailures 0', async () => {
    const limiter = new LoginLimiter({ maxFailures: 0, windowSeconds: 60, blockSeconds: 60 });
    for (let i = 0; i < 50; i++) await limiter.failed('10.0.0.9');
    expect(await limiter.admit('10.0.0.9')).toEqual({ allowed: true });
  });
});

describe('loginLimitsFromEnv', () => {
  it('defaults to 10 failures in 60 s, blocked for 60 s', () => {
    expect(loginLimitsFromEnv({})).toEqual({ maxFailures: 10, windowSeconds: 60, blockSeconds: 60 });
  });

  it('reads the three variables', () => {
    expect(loginLimitsFromEnv({ LABRUN_LOGIN_MAX_FAILURES: '5', LABRUN_LOGIN_WINDOW_SECONDS: '600', LABRUN_LOGIN_BLOCK_SECONDS: '900' })).toEqual({
      maxFailures: 5,
      windowSeconds: 600,
      blockSeconds: 900,
    });
  });

  it('names a variable that is not a number in range', () => {
    expect(() => loginLimitsFromEnv({ LABRUN_LOGIN_BLOCK_SECONDS: 'soon' })).toThrow(ConfigError);
    expect(() => loginLimitsFromEnv({ LABRUN_LOGIN_MAX_FAILURES: '-1' })).toThrow(/LABRUN_LOGIN_MAX_FAILURES="-1"/);
  });
});

describe('LoginLimiter.attempt', () => {
  it('checks a login, counts it when it fails, and refuses the address unchecked once it is blocked', async () => {
    const limiter = new LoginLimiter({ maxFailures: 2, windowSeconds: 60, blockSeconds: 60 });
    expect(await limiter.attempt('10.0.0.9', () => true)).toEqual({ checked: true, passed: true });
    expect(await limiter.attempt('10.0.0.9', () => false)).toEqual({ checked: true, passed: false, blocked: false, retryAfterSeconds: 0 });
    expect(await limiter.attempt('10.0.0.9', async () => false)).toEqual({ checked: true, passed: false, blocked: true, retryAfterSeconds: 60 });
    let checked = false;
    const refused = await limiter.attempt('10.0.0.9', () => (checked = true));
    expect(refused).toMatchObject({ checked: false });
    expect(checked).toBe(false);
  });

  it('checks the logins of one address one at a time, so parallel guesses are cut off after the limit too', async () => {
    const limiter = new LoginLimiter({ maxFailures: 3, windowSeconds: 60, blockSeconds: 60 });
    let checks = 0;
    let running = 0;
    let mostAtOnce = 0;
    const guess = async () => {
      checks++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return false;
    };
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => limiter.attempt('10.0.0.9', guess)));
    expect(checks).toBe(3);
    expect(mostAtOnce).toBe(1);
    expect(outcomes.filter((o) => !o.checked)).toHaveLength(27);
    // Another address is not held up by the queue of the first.
    expect(await limiter.attempt('10.0.0.10', () => true)).toEqual({ checked: true, passed: true });
  });

  it('still checks every login when the limit is off', async () => {
    const limiter = new LoginLimiter({ maxFailures: 0, windowSeconds: 60, blockSeconds: 60 });
    for (let i = 0; i < 20; i++) expect(await limiter.attempt('10.0.0.9', () => false)).toMatchObject({ checked: true, passed: false, blocked: false });
  });
});
