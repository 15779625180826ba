import type { Db, WebhookDeliveryRecord, WebhookEndpointRecord } from '@lookalike/db';
import { badInput, CoreError, CoreErrorCode, notFound } from '../errors.js';
import {
  generateWebhookSecret,
  WEBHOOK_EVENTS,
  WEBHOOK_TEST_EVENT,
  type WebhookEventType,
} from './signing.js';

/** Endpoints per merchant: enough for a few systems and environments, bounded fan-out. */
export const MAX_WEBHOOK_ENDPOINTS = 10;
const MAX_URL_LENGTH = 2048;

export type WebhookEndpoint = Omit<WebhookEndpointRecord, 'secret'>;

export interface DeliveryPage {
  items: WebhookDeliveryRecord[];
  hasNextPage: boolean;
  endCursor: string | null;
}

function publicEndpoint({ secret: _secret, ...endpoint }: WebhookEndpointRecord): WebhookEndpoint {
  return endpoint;
}

function encodeDeliveryCursor(d: WebhookDeliveryRecord): string {
  return Buffer.from(`delivery:${d.createdAt.toISOString()}|${d.id}`).toString('base64url');
}

function decodeDeliveryCursor(cursor: string): { createdAt: Date; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^delivery:([^|]+)\|([0-9a-f-]{36})$/i.exec(text);
  const createdAt = m ? new Date(m[1] as string) : new Date(NaN);
  if (!m || Number.isNaN(createdAt.getTime())) {
    throw badInput('after is not a cursor returned by webhookDeliveries', 'after');
  }
  return { createdAt, id: m[2] as string };
}

/** Validate an endpoint URL at the edge; where it points is checked again at every delivery. */
export function checkWebhookUrl(url: string): string {
  if (url.length > MAX_URL_LENGTH) {
    throw badInput(`url must be at most ${MAX_URL_LENGTH} characters`, 'url');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badInput('url is not an absolute URL', 'url');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw badInput('url must be http or https', 'url');
  }
  if (parsed.username || parsed.password) {
    throw badInput('url must not carry credentials', 'url');
  }
  return parsed.toString();
}

/**
 * Webhook endpoints of a merchant and their deliveries. Events are written by the services
 * whose work they report (in the same transaction: `tx.webhooks.emit`); the dispatcher sends
 * them.
 */
export class WebhookService {
  constructor(private readonly db: Db) {}

  /** A new endpoint; its secret is in this answer only. */
  async create(
    merchantId: string,
    input: { url: string; events: readonly string[] },
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = checkWebhookUrl(input.url);
    const events = [...new Set(input.events)];
    if (events.length === 0) throw badInput('events needs at least one event', 'events');
    const unknown = events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
    if (unknown.length > 0) {
      throw badInput(
        `unknown events: ${unknown.join(', ')} (known: ${WEBHOOK_EVENTS.join(', ')})`,
        'events',
      );
    }
    if ((await this.db.webhooks.countEndpoints(merchantId)) >= MAX_WEBHOOK_ENDPOINTS) {
      throw new CoreError(
        CoreErrorCode.BAD_USER_INPUT,
        `a merchant has at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints`,
        { field: 'url', limit: MAX_WEBHOOK_ENDPOINTS },
      );
    }
    const secret = generateWebhookSecret();
    const endpoint = await this.db.webhooks.createEndpoint(merchantId, { url, events, secret });
    return { endpoint: publicEndpoint(endpoint), secret };
  }

  async list(merchantId: string): Promise<WebhookEndpoint[]> {
    return (await this.db.webhooks.listEndpoints(merchantId)).map(publicEndpoint);
  }

  async delete(merchantId: string, id: string): Promise<boolean> {
    if (!(await this.db.webhooks.deleteEndpoint(merchantId, id))) {
      throw notFound(`webhook endpoint ${id}`);
    }
    return true;
  }

  /**
   * Queue a `webhook.test` event for this endpoint alone, signed and delivered like any other
   * (retries included): a merchant checks its receiver without waiting for a real event.
   */
  async sendTest(merchantId: string, endpointId: string): Promise<WebhookDeliveryRecord> {
    const delivery = await this.db.webhooks.emitTo(merchantId, endpointId, WEBHOOK_TEST_EVENT, {
      endpointId,
      message: 'A test event sent from Lookalike',
    });
    if (!delivery) throw notFound(`webhook endpoint ${endpointId}`);
    return delivery;
  }

  async deliveries(
    merchantId: string,
    endpointId: string,
    { first = 20, after }: { first?: number | null; after?: string | null },
  ): Promise<DeliveryPage> {
    if (!Number.isInteger(first) || (first ?? 0) < 1 || (first ?? 0) > 100) {
      throw badInput('first must be an integer in [1, 100]', 'first');
    }
    if (!(await this.db.webhooks.getEndpoint(merchantId, endpointId))) {
      throw notFound(`webhook endpoint ${endpointId}`);
    }
    const page = await this.db.webhooks.listDeliveries(merchantId, endpointId, {
      first: first ?? 20,
      ...(after ? { after: decodeDeliveryCursor(after) } : {}),
    });
    const last = page.items[page.items.length - 1];
    return { ...page, endCursor: last ? encodeDeliveryCursor(last) : null };
  }
}

export type { WebhookEventType };
