import { Backoff } from '../src/backoff';
import { readTokenTimes } from '../src/jwt';
import { RecentIds } from '../src/recent-ids';
import { makeToken } from './support/test-server';

describe('Backoff (full jitter)', () => {
  test('each delay is random in [0, min(max, min * factor^n)]', () => {
    const top = new Backoff({ minDelayMs: 100, maxDelayMs: 1000, factor: 3 }, () => 0.999999);
    expect([1, 2, 3, 4, 5].map(() => top.next())).toEqual([100, 300, 900, 1000, 1000]);
    const bottom = new Backoff({ minDelayMs: 100, maxDelayMs: 1000 }, () => 0);
    expect([1, 2, 3].map(() => bottom.next())).toEqual([0, 0, 0]);
    const real = new Backoff({ minDelayMs: 100, maxDelayMs: 1000 });
    const samples = Array.from({ length: 200 }, () => {
      real.reset();
      real.next();
      return real.next();
    });
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(200);
    expect(new Set(samples).size).toBeGreaterThan(50); // jittered, not constant
  });

  test('reset starts over; bad settings are refused', () => {
    const b = new Backoff({ minDelayMs: 10, maxDelayMs: 100 }, () => 1);
    b.next();
    b.next();
    expect(b.attempt).toBe(2);
    b.reset();
    expect(b.next()).toBe(10);
    expect(() => new Backoff({ minDelayMs: 100, maxDelayMs: 10 })).toThrow(/minDelayMs <= maxDelayMs/);
  });
});

describe('readTokenTimes', () => {
  test('reads exp and iat of a JWT without verifying it', () => {
    const token = makeToken({ sub: 'u', exp: 2_000_000_000 });
    expect(readTokenTimes(token)?.expMs).toBe(2_000_000_000_000);
    expect(readTokenTimes(token)?.iatMs).toBeGreaterThan(0);
  });
  test('anything else is unscheduled, never an exception', () => {
    expect(readTokenTimes('opaque')).toBeUndefined();
    expect(readTokenTimes('a.b.c')).toBeUndefined();
    expect(readTokenTimes(`x.${Buffer.from('{"exp":"soon"}').toString('base64url')}.y`)).toBeUndefined();
    expect(readTokenTimes(`x.${Buffer.from('{"exp":17}').toString('base64url')}.y`)).toEqual({ expMs: 17_000 });
  });
});

describe('RecentIds', () => {
  test('remembers the last N ids, evicting the oldest', () => {
    const ids = new RecentIds(3);
    expect(['a', 'b', 'c'].map((id) => ids.checkAndAdd(id))).toEqual([false, false, false]);
    expect(ids.checkAndAdd('a')).toBe(true);
    expect(ids.checkAndAdd('d')).toBe(false); // evicts a
    expect(ids.size).toBe(3);
    expect(ids.checkAndAdd('a')).toBe(false);
  });
});
