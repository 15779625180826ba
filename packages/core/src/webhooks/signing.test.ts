import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook, verifyWebhook } from './signing.js';

// The test vector published by the Standard Webhooks project (its specification and every
// reference library test sign this message): a receiver's existing library must accept ours.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signing', () => {
  it('reproduces the published test vector', () => {
    const headers = signWebhook(
      VECTOR.secret,
      VECTOR.id,
      new Date(VECTOR.timestamp * 1000),
      VECTOR.body,
    );
    expect(headers).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': VECTOR.signature,
    });
  });

  it('verifies its own signatures and refuses a tampered body or a foreign secret', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const body = JSON.stringify({ type: 'import.completed', data: { jobId: 'x' } });
    const headers = signWebhook(secret, 'evt_1', new Date(), body);
    expect(verifyWebhook(secret, body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => verifyWebhook(secret, body.replace('x', 'y'), { ...headers })).toThrow();
    expect(() => verifyWebhook(generateWebhookSecret(), body, { ...headers })).toThrow();
  });

  it('refuses a delivery older than five minutes (replay)', () => {
    const secret = generateWebhookSecret();
    const old = new Date(Date.now() - 10 * 60_000);
    const headers = signWebhook(secret, 'evt_2', old, '{}');
    expect(() => verifyWebhook(secret, '{}', { ...headers })).toThrow(/timestamp/i);
  });
});
