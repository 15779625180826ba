import { describe, expect, it } from 'vitest';
import { openSession, sealSession } from './session-crypto';

const SECRET = 'a'.repeat(64);
const KEY = `lk_${'A'.repeat(12)}_${'b'.repeat(40)}`;
const payload = { key: KEY, sid: 'AAAAAAAAAAAAAAAAAAAAAA', iat: 1_000, exp: 10_000 };

describe('session cookie', () => {
  it('round-trips, and the key does not appear in the cookie', () => {
    const value = sealSession(SECRET, payload, 'lk_admin_session');
    expect(value).not.toContain(KEY);
    expect(value).not.toContain('bbbb');
    expect(openSession(SECRET, value, 'lk_admin_session', 5_000)).toEqual(payload);
  });

  it('uses a fresh IV each time', () => {
    expect(sealSession(SECRET, payload, 'n')).not.toBe(sealSession(SECRET, payload, 'n'));
  });

  it('refuses a changed byte, another secret, another cookie name, an expired session and junk', () => {
    const value = sealSession(SECRET, payload, 'n');
    const body = Buffer.from(value.slice(3), 'base64url');
    body[20] = (body[20] ?? 0) ^ 1;
    expect(openSession(SECRET, `v1.${body.toString('base64url')}`, 'n', 5_000)).toBeNull();
    expect(openSession('b'.repeat(64), value, 'n', 5_000)).toBeNull();
    expect(openSession(SECRET, value, 'other', 5_000)).toBeNull();
    expect(openSession(SECRET, value, 'n', 10_000)).toBeNull();
    expect(openSession(SECRET, undefined, 'n')).toBeNull();
    expect(openSession(SECRET, 'v1.', 'n')).toBeNull();
    expect(openSession(SECRET, KEY, 'n')).toBeNull();
  });

  it('refuses a cookie sealed without a session id (one from before sessions were stored)', () => {
    const { key, iat, exp } = payload;
    const value = sealSession(SECRET, { key, iat, exp } as typeof payload, 'n');
    expect(openSession(SECRET, value, 'n', 5_000)).toBeNull();
  });
});
