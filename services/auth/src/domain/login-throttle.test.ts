import { LOGIN_THROTTLE, loginDelayMs } from './login-throttle';

const t0 = 1_000_000;

describe('loginDelayMs', () => {
  it('lets the first failures through without waiting', () => {
    expect(loginDelayMs(undefined, t0)).toBe(0);
    expect(loginDelayMs({ count: 4, firstAtMs: t0, lastAtMs: t0 }, t0)).toBe(0);
  });

  it('doubles the wait after the last failure for each failure beyond five', () => {
    expect(loginDelayMs({ count: 5, firstAtMs: t0, lastAtMs: t0 }, t0)).toBe(1_000);
    expect(loginDelayMs({ count: 6, firstAtMs: t0, lastAtMs: t0 }, t0)).toBe(2_000);
    expect(loginDelayMs({ count: 8, firstAtMs: t0, lastAtMs: t0 }, t0 + 3_000)).toBe(5_000);
    expect(loginDelayMs({ count: 40, firstAtMs: t0, lastAtMs: t0 }, t0)).toBe(LOGIN_THROTTLE.maxDelayMs);
  });

  it('forgets failures once the window is over', () => {
    const failures = { count: 20, firstAtMs: t0, lastAtMs: t0 + 60_000 };
    expect(loginDelayMs(failures, t0 + LOGIN_THROTTLE.windowMs + 1)).toBe(0);
  });
});
