import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** The events an endpoint can subscribe to. */
export const WEBHOOK_EVENTS = [
  'import.completed',
  'import.failed',
  'image.indexed',
  'image.failed',
  'model.switched',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** What an endpoint subscribed to each event is sent, in a few words (the API's webhookEvents). */
export const WEBHOOK_EVENT_DESCRIPTIONS: Record<WebhookEventType, string> = {
  'import.completed': 'an import worked every row (some may have failed)',
  'import.failed': 'an import in which no row could be imported',
  'image.indexed': "an imported row's image stored and embedded: searchable",
  'image.failed': "an imported row's image that could not be fetched or stored",
  'model.switched': 'another embedding model serves the searches',
};

/** Sent to one endpoint on request (sendTestWebhook), whatever it subscribes to. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/**
 * A new endpoint secret in the Standard Webhooks form: `whsec_` and base64 of 24 random bytes
 * (192 bits; the specification asks for 24 to 64 bytes).
 */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The headers of one signed delivery. */
export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Sign a delivery per Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of
 * `id.timestamp.body` under the secret's key. The id stays the same on every retry (receivers
 * deduplicate by it); the timestamp and signature are made fresh for each attempt.
 */
export function signWebhook(
  secret: string,
  id: string,
  timestamp: Date,
  body: string,
): SignedHeaders {
  const signature = new Webhook(secret).sign(id, timestamp, body);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/**
 * Check a delivery as a receiver would (the signature, and a timestamp within five minutes);
 * returns the parsed body or throws. For receivers written against this project and its tests.
 */
export function verifyWebhook(
  secret: string,
  body: string,
  headers: Record<string, string>,
): unknown {
  return new Webhook(secret).verify(body, headers);
}
