import type { DbClient } from '../client.js';
import type {
  WebhookDelivery as DeliveryRow,
  WebhookEndpoint as EndpointRow,
} from '../generated/prisma/client.js';
import { InvalidArgumentError } from '../errors.js';
import { newId } from './ids.js';
import { assertInt, isUuid } from './validate.js';

export type WebhookDeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface WebhookEndpointRecord {
  id: string;
  merchantId: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: Date;
}

export interface WebhookDeliveryRecord {
  id: string;
  eventId: string;
  endpointId: string;
  merchantId: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  eventType: string;
}

/** A delivery claimed by a worker, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  merchantId: string;
  attempts: number;
  type: string;
  payload: unknown;
  eventCreatedAt: Date;
  url: string;
  secret: string;
}

function toEndpoint(row: EndpointRow): WebhookEndpointRecord {
  return { ...row };
}

function toDelivery(row: DeliveryRow & { event: { type: string } }): WebhookDeliveryRecord {
  const { event, ...rest } = row;
  return {
    id: rest.id,
    eventId: rest.eventId,
    endpointId: rest.endpointId,
    merchantId: rest.merchantId,
    status: rest.status,
    attempts: rest.attempts,
    nextAttemptAt: rest.nextAttemptAt,
    lastStatus: rest.lastStatus,
    lastError: rest.lastError,
    createdAt: rest.createdAt,
    deliveredAt: rest.deliveredAt,
    eventType: event.type,
  };
}

/**
 * Webhook endpoints and the outbox. `emit` runs in the transaction of what it reports: the
 * event and one delivery per subscribed endpoint commit with it or not at all. Deliveries are
 * claimed with a lease (FOR UPDATE SKIP LOCKED), so any number of workers share them and a
 * crashed worker's claims come back when their lease runs out.
 */
export class WebhookRepository {
  constructor(private readonly prisma: DbClient) {}

  async createEndpoint(
    merchantId: string,
    input: { url: string; events: string[]; secret: string },
  ): Promise<WebhookEndpointRecord> {
    const row = await this.prisma.webhookEndpoint.create({
      data: { merchantId, url: input.url, events: input.events, secret: input.secret },
    });
    return toEndpoint(row);
  }

  async listEndpoints(merchantId: string): Promise<WebhookEndpointRecord[]> {
    const rows = await this.prisma.webhookEndpoint.findMany({
      where: { merchantId },
      orderBy: { id: 'asc' },
    });
    return rows.map(toEndpoint);
  }

  async getEndpoint(merchantId: string, id: string): Promise<WebhookEndpointRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.webhookEndpoint.findFirst({ where: { id, merchantId } });
    return row ? toEndpoint(row) : null;
  }

  async countEndpoints(merchantId: string): Promise<number> {
    return this.prisma.webhookEndpoint.count({ where: { merchantId } });
  }

  /** Deletes the endpoint and its deliveries; false when it is not this merchant's. */
  async deleteEndpoint(merchantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.webhookEndpoint.deleteMany({ where: { id, merchantId } });
    return count > 0;
  }

  /**
   * Write an event and a delivery for every endpoint of the merchant subscribed to `type`, in
   * one statement; nothing is written when no endpoint wants it. Returns the event id, or null.
   */
  async emit(merchantId: string, type: string, payload: unknown): Promise<string | null> {
    const id = newId();
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      WITH ep AS (
        SELECT id FROM webhook_endpoints
        WHERE merchant_id = ${merchantId}::uuid AND ${type} = ANY(events)
      ), ev AS (
        INSERT INTO webhook_events (id, merchant_id, type, payload)
        SELECT ${id}::uuid, ${merchantId}::uuid, ${type}, ${JSON.stringify(payload)}::jsonb
        WHERE EXISTS (SELECT 1 FROM ep)
        RETURNING id
      )
      INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id)
      SELECT gen_random_uuid(), ev.id, ep.id, ${merchantId}::uuid FROM ev, ep
      RETURNING event_id::text AS id`;
    return rows[0]?.id ?? null;
  }

  /**
   * Write an event for one endpoint of the merchant alone (whatever it subscribes to) and its
   * delivery, in one statement: a test event. Null when the endpoint is not this merchant's.
   */
  async emitTo(
    merchantId: string,
    endpointId: string,
    type: string,
    payload: unknown,
  ): Promise<WebhookDeliveryRecord | null> {
    if (!isUuid(endpointId)) return null;
    const id = newId();
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      WITH ep AS (
        SELECT id FROM webhook_endpoints
        WHERE merchant_id = ${merchantId}::uuid AND id = ${endpointId}::uuid
      ), ev AS (
        INSERT INTO webhook_events (id, merchant_id, type, payload)
        SELECT ${id}::uuid, ${merchantId}::uuid, ${type}, ${JSON.stringify(payload)}::jsonb
        WHERE EXISTS (SELECT 1 FROM ep)
        RETURNING id
      )
      INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id)
      SELECT gen_random_uuid(), ev.id, ep.id, ${merchantId}::uuid FROM ev, ep
      RETURNING id::text AS id`;
    const deliveryId = rows[0]?.id;
    if (!deliveryId) return null;
    const row = await this.prisma.webhookDelivery.findUniqueOrThrow({
      where: { id: deliveryId },
      include: { event: { select: { type: true } } },
    });
    return toDelivery(row);
  }

  /**
   * Claim up to `limit` due deliveries for `leaseMs`: each attempt is counted as it is claimed,
   * so a worker that dies mid-send still uses up an attempt.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    assertInt(limit, 'limit', 1, 1000);
    const rows = await this.prisma.$queryRaw<ClaimedDelivery[]>`
      WITH due AS (
        SELECT id FROM webhook_deliveries
        WHERE status = 'PENDING' AND next_attempt_at <= now()
          AND (locked_until IS NULL OR locked_until < now())
        ORDER BY next_attempt_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE webhook_deliveries d
        SET locked_until = now() + make_interval(secs => ${leaseMs / 1000}),
            attempts = d.attempts + 1
        FROM due WHERE d.id = due.id
        RETURNING d.id, d.event_id, d.endpoint_id, d.merchant_id, d.attempts
      )
      SELECT c.id::text AS id, c.event_id::text AS "eventId", c.merchant_id::text AS "merchantId",
             c.attempts, e.type, e.payload, e.created_at AS "eventCreatedAt", w.url, w.secret
      FROM claimed c
      JOIN webhook_events e ON e.id = c.event_id
      JOIN webhook_endpoints w ON w.id = c.endpoint_id`;
    return rows.map((r) => ({ ...r, eventCreatedAt: new Date(r.eventCreatedAt) }));
  }

  async markDelivered(id: string, status: number): Promise<void> {
    await this.prisma.webhookDelivery.updateMany({
      where: { id, status: 'PENDING' },
      data: {
        status: 'DELIVERED',
        lastStatus: status,
        lastError: null,
        deliveredAt: new Date(),
        lockedUntil: null,
      },
    });
  }

  /** A failed attempt: try again at `retryAt`, or give up (FAILED) when it is null. */
  async markAttemptFailed(
    id: string,
    failure: { status: number | null; error: string; retryAt: Date | null },
  ): Promise<void> {
    await this.prisma.webhookDelivery.updateMany({
      where: { id, status: 'PENDING' },
      data: {
        lastStatus: failure.status,
        lastError: failure.error.slice(0, 1000),
        lockedUntil: null,
        ...(failure.retryAt ? { nextAttemptAt: failure.retryAt } : { status: 'FAILED' }),
      },
    });
  }

  /**
   * Newest first. `after` is the `cursor` of the last delivery of the previous page (its
   * creation time and id: deliveries made in one statement share a timestamp).
   */
  async listDeliveries(
    merchantId: string,
    endpointId: string,
    { first, after }: { first: number; after?: { createdAt: Date; id: string } },
  ): Promise<{ items: WebhookDeliveryRecord[]; hasNextPage: boolean }> {
    assertInt(first, 'first', 1, 1000);
    if (after && !isUuid(after.id)) throw new InvalidArgumentError('bad cursor');
    if (!isUuid(endpointId)) return { items: [], hasNextPage: false };
    const rows = await this.prisma.webhookDelivery.findMany({
      where: {
        merchantId,
        endpointId,
        ...(after
          ? {
              OR: [
                { createdAt: { lt: after.createdAt } },
                { createdAt: after.createdAt, id: { lt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: first + 1,
      include: { event: { select: { type: true } } },
    });
    return { items: rows.slice(0, first).map(toDelivery), hasNextPage: rows.length > first };
  }
}
