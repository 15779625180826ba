import { WEBHOOK_EVENT_DESCRIPTIONS, WEBHOOK_EVENTS, type WebhookService } from '@lookalike/core';
import type { WebhookDeliveryRecord } from '@lookalike/db';
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { ApiScope, WebhookDeliveryStatus } from '../types/enums.js';
import {
  CreatedWebhookEndpoint,
  WebhookDelivery,
  WebhookDeliveryConnection,
  WebhookEndpoint,
  WebhookEvent,
} from '../types/webhook.type.js';

function toDelivery(d: WebhookDeliveryRecord): WebhookDelivery {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: WebhookDeliveryStatus[d.status],
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
  };
}

@Resolver()
export class WebhookResolver {
  constructor(private readonly webhooks: WebhookService) {}

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => CreatedWebhookEndpoint, {
    description:
      'Deliver these events to this URL, signed per Standard Webhooks with the secret answered here once. ' +
      `Events (webhookEvents says what each means): ${WEBHOOK_EVENTS.join(', ')}.`,
  })
  async createWebhookEndpoint(
    @Arg('url', () => String) url: string,
    @Arg('events', () => [String]) events: string[],
    @Ctx() ctx: Context,
  ): Promise<CreatedWebhookEndpoint> {
    return this.webhooks.create(ctx.principal.merchantId, { url, events });
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Query(() => [WebhookEvent], {
    description: 'The events an endpoint can subscribe to, with what each is sent for.',
  })
  webhookEvents(): WebhookEvent[] {
    return WEBHOOK_EVENTS.map((name) => ({ name, description: WEBHOOK_EVENT_DESCRIPTIONS[name] }));
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Query(() => [WebhookEndpoint], { description: "The merchant's webhook endpoints." })
  webhookEndpoints(@Ctx() ctx: Context): Promise<WebhookEndpoint[]> {
    return this.webhooks.list(ctx.principal.merchantId);
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => Boolean, { description: 'Delete the endpoint and its pending deliveries.' })
  deleteWebhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.webhooks.delete(ctx.principal.merchantId, id);
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => WebhookDelivery, {
    description:
      'Queue a webhook.test event for this endpoint alone, signed and retried like any other; answers its delivery.',
  })
  async sendTestWebhook(
    @Arg('endpointId', () => ID) endpointId: string,
    @Ctx() ctx: Context,
  ): Promise<WebhookDelivery> {
    return toDelivery(await this.webhooks.sendTest(ctx.principal.merchantId, endpointId));
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Query(() => WebhookDeliveryConnection, {
    description: "An endpoint's deliveries, newest first, with attempts and the last answer.",
  })
  async webhookDeliveries(
    @Arg('endpointId', () => ID) endpointId: string,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<WebhookDeliveryConnection> {
    const page = await this.webhooks.deliveries(ctx.principal.merchantId, endpointId, {
      first,
      after,
    });
    return {
      nodes: page.items.map(toDelivery),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    };
  }
}
