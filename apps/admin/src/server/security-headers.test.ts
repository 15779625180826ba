import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  DATA_CONTENT_SECURITY_POLICY,
  newNonce,
  SECURITY_HEADERS,
} from './security-headers';

const parse = (policy: string) =>
  new Map(
    policy.split('; ').map((d) => {
      const [name = '', ...values] = d.split(' ');
      return [name, values] as const;
    }),
  );

describe('security headers', () => {
  it('forbid framing and sniffing, and keep the referrer on this site', () => {
    expect(SECURITY_HEADERS).toEqual({
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    });
  });

  it('run only nonce-bearing scripts, connect only to the dashboard, frame nowhere', () => {
    const policy = parse(contentSecurityPolicy('abc123==', { dev: false }));
    expect(policy.get('script-src')).toEqual(["'self'", "'nonce-abc123=='", "'strict-dynamic'"]);
    expect(policy.get('connect-src')).toEqual(["'self'"]);
    expect(policy.get('img-src')).toEqual(["'self'", 'blob:']);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'self'"]);
    expect(policy.get('default-src')).toEqual(["'self'"]);
  });

  it('lets answers that are not pages load nothing and be framed nowhere', () => {
    const policy = parse(DATA_CONTENT_SECURITY_POLICY);
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  });

  it("allows eval under `next dev` only (React's error overlays)", () => {
    expect(parse(contentSecurityPolicy('n', { dev: true })).get('script-src')).toContain(
      "'unsafe-eval'",
    );
    expect(contentSecurityPolicy('n', { dev: false })).not.toContain('unsafe-eval');
  });

  it('makes a new 128-bit nonce each time', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => newNonce()));
    expect(nonces.size).toBe(100);
    for (const n of nonces) expect(Buffer.from(n, 'base64')).toHaveLength(16);
  });
});
