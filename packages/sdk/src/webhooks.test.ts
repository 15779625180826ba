import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from './webhooks.js';

const secret = `whsec_${Buffer.from('a secret of twenty-four!').toString('base64')}`;

function signed(body: string, at = new Date()) {
  const id = 'msg_1';
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

describe('verifyWebhook', () => {
  const body = JSON.stringify({ type: 'webhook.test', timestamp: 't', data: { n: 1 } });

  it('answers the event of a delivery signed with the secret (headers as an object or Headers)', () => {
    expect(verifyWebhook(secret, body, signed(body))).toEqual({
      type: 'webhook.test',
      timestamp: 't',
      data: { n: 1 },
    });
    expect(verifyWebhook(secret, Buffer.from(body), new Headers(signed(body))).type).toBe(
      'webhook.test',
    );
  });

  it('refuses a changed body, another secret and an old timestamp', () => {
    const headers = signed(body);
    expect(() => verifyWebhook(secret, body.replace('1', '2'), headers)).toThrow(
      WebhookVerificationError,
    );
    const other = `whsec_${Buffer.from('another secret of 24 b!!').toString('base64')}`;
    expect(() => verifyWebhook(other, body, headers)).toThrow(WebhookVerificationError);
    const old = signed(body, new Date(Date.now() - 10 * 60_000));
    expect(() => verifyWebhook(secret, body, old)).toThrow(WebhookVerificationError);
  });
});
