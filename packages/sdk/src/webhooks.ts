import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** What every Lookalike webhook body holds. */
export interface WebhookEvent<T = Record<string, unknown>> {
  type: string;
  timestamp: string;
  data: T;
}

/**
 * Check a delivery as a receiver: the Standard Webhooks signature under the endpoint's secret
 * (`whsec_…`, answered once by createWebhookEndpoint) and a timestamp within five minutes.
 * `body` is the raw request body, exactly as received (parse it only after this); `headers`
 * holds webhook-id, webhook-timestamp and webhook-signature. Answers the parsed event or throws
 * WebhookVerificationError. Deduplicate by webhook-id: a retried delivery keeps its id.
 */
export function verifyWebhook<T = Record<string, unknown>>(
  secret: string,
  body: string | Buffer,
  headers: Record<string, string | string[] | undefined> | Headers,
): WebhookEvent<T> {
  const flat: Record<string, string> = {};
  const entries: [string, unknown][] =
    headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) {
    if (typeof value === 'string') flat[name.toLowerCase()] = value;
    else if (Array.isArray(value) && typeof value[0] === 'string')
      flat[name.toLowerCase()] = value[0];
  }
  return new Webhook(secret).verify(
    typeof body === 'string' ? body : body.toString('utf8'),
    flat,
  ) as WebhookEvent<T>;
}

export { WebhookVerificationError };
